"""Loading a YAML document found in a model, with bounds a hostile file cannot get past.

The document is composed with PyYAML's pure-Python safe loader (what `yaml.safe_load`, and so
MLflow, uses: both read it the same way). Before anything is constructed the node graph is
walked iteratively: nesting deeper than `max_depth`, more than `max_nodes` nodes once every alias
is expanded (the "billion laughs" bomb: each anchor aliased ten times, ten levels deep) and an
alias inside the node it names (a recursive document) are refused. Composition itself is linear
in the input, which the caller bounds by size. PyYAML is imported only here.
"""

from __future__ import annotations

from typing import Any

MAX_DEPTH = 64
MAX_NODES = 100_000


class YamlRejected(ValueError):
    """The document was not loaded; the message says why, in one line."""


def load(text: str, *, max_depth: int = MAX_DEPTH, max_nodes: int = MAX_NODES) -> Any:
    """The data of the single YAML document in `text`; raises YamlRejected."""
    import yaml

    try:
        loader = yaml.SafeLoader(text)  # its reader refuses control characters right here
    except yaml.YAMLError as err:
        raise YamlRejected(f"invalid YAML: {_first_line(err)}") from None
    try:
        try:
            root = loader.get_single_node()
        except RecursionError:
            raise YamlRejected("nested too deeply to parse") from None
        except yaml.MarkedYAMLError as err:
            mark = err.problem_mark or err.context_mark
            line = f" at line {mark.line + 1}" if mark is not None else ""
            raise YamlRejected(f"invalid YAML{line}: {err.problem or err.context}") from None
        except yaml.YAMLError as err:  # a reader error: a character YAML does not allow
            raise YamlRejected(f"invalid YAML: {_first_line(err)}") from None
        if root is None:
            return None
        check_graph(root, max_depth, max_nodes)
        try:
            return loader.construct_document(root)
        except (yaml.YAMLError, ValueError, TypeError, OverflowError, RecursionError) as err:
            raise YamlRejected(f"YAML values cannot be constructed: {_first_line(err)}") from None
    finally:
        loader.dispose()


def check_graph(root: Any, max_depth: int, max_nodes: int) -> None:
    """Refuse a composed node graph that is too deep, too large expanded, or recursive."""
    size: dict[int, int] = {}  # expanded node count below and including a node
    height: dict[int, int] = {}
    open_nodes: set[int] = set()  # started, not finished: the current path from the root
    stack: list[tuple[Any, int, bool]] = [(root, 0, False)]
    while stack:
        node, depth, finished = stack.pop()
        key = id(node)
        if finished:
            open_nodes.discard(key)
            kids = _children(node)
            size[key] = 1 + sum(size[id(k)] for k in kids)
            height[key] = 1 + max((height[id(k)] for k in kids), default=0)
            if size[key] > max_nodes:
                raise YamlRejected(
                    f"more than {max_nodes} nodes once aliases are expanded (an alias bomb)"
                )
            continue
        if key in size:  # a second path to a shared node: already measured
            if depth + height[key] > max_depth + 1:
                raise YamlRejected(f"nested deeper than {max_depth} levels")
            continue
        if depth > max_depth:
            raise YamlRejected(f"nested deeper than {max_depth} levels")
        open_nodes.add(key)
        stack.append((node, depth, True))
        for kid in _children(node):
            if id(kid) in open_nodes:
                raise YamlRejected("an alias refers to a node that contains it (recursive)")
            stack.append((kid, depth + 1, False))


def _children(node: Any) -> list[Any]:
    value = node.value
    if not isinstance(value, list):
        return []  # a scalar
    kids: list[Any] = []
    for item in value:
        if isinstance(item, tuple):  # a mapping's (key, value) pair
            kids.extend(item)
        else:
            kids.append(item)
    return kids


def _first_line(err: Exception) -> str:
    lines = str(err).strip().splitlines()
    return lines[0] if lines else type(err).__name__
