"""Safe YAML reading that remembers where every value came from.

Errors in user files must name the line, so we compose the node tree (which carries marks)
and construct data from it with the safe constructor. Duplicate keys, which PyYAML silently
overwrites, are rejected here because they hide mistakes in hand-written files.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from custos.errors import DataError

try:  # libyaml is several times faster; both are the *safe* loader.
    _Loader: type[yaml.SafeLoader] = yaml.CSafeLoader  # type: ignore[assignment]
except AttributeError:  # pragma: no cover - depends on the PyYAML build
    _Loader = yaml.SafeLoader


@dataclass(frozen=True)
class YamlDocument:
    """Parsed data plus the node tree used to find line numbers."""

    path: Path
    data: Any
    root: yaml.Node | None

    def line_of(self, loc: Sequence[str | int]) -> int | None:
        """1-based line of the value at `loc` (a pydantic-style path), or the nearest parent."""
        node = self.root
        line = node.start_mark.line + 1 if node is not None else None
        for part in loc:
            child = _child(node, part)
            if child is None:
                break
            node = child
            line = node.start_mark.line + 1
        return line


def _child(node: yaml.Node | None, part: str | int) -> yaml.Node | None:
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            if isinstance(key, yaml.ScalarNode) and key.value == str(part):
                found: yaml.Node = value
                return found
    elif (
        isinstance(node, yaml.SequenceNode)
        and isinstance(part, int)
        and 0 <= part < len(node.value)
    ):
        item: yaml.Node = node.value[part]
        return item
    return None


def _check_duplicate_keys(path: Path, node: yaml.Node) -> None:
    stack = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, yaml.MappingNode):
            seen: set[str] = set()
            for key, value in current.value:
                if isinstance(key, yaml.ScalarNode):
                    if key.value in seen:
                        raise DataError(
                            path, f"duplicate key {key.value!r}", key.start_mark.line + 1
                        )
                    seen.add(key.value)
                stack.append(value)
        elif isinstance(current, yaml.SequenceNode):
            stack.extend(current.value)


def parse_yaml(text: str, path: Path) -> YamlDocument:
    """Parse one YAML document safely; raise DataError naming the file and line."""
    loader = _Loader(text)
    try:
        root = loader.get_single_node()
        if root is not None:
            _check_duplicate_keys(path, root)
        data = loader.construct_document(root) if root is not None else None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        problem = exc.problem or exc.context or "invalid YAML"
        raise DataError(path, f"invalid YAML: {problem}", line) from exc
    except yaml.YAMLError as exc:
        raise DataError(path, f"invalid YAML: {exc}") from exc
    finally:
        loader.dispose()
    return YamlDocument(path=path, data=data, root=root)


def read_yaml(path: Path) -> YamlDocument:
    """Read and parse a YAML file; unreadable or non-UTF-8 files are DataErrors too."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise DataError(path, "file not found") from exc
    except IsADirectoryError as exc:
        raise DataError(path, "is a directory, expected a YAML file") from exc
    except UnicodeDecodeError as exc:
        raise DataError(path, "not UTF-8 text") from exc
    except OSError as exc:
        raise DataError(path, f"cannot read: {exc.strerror}") from exc
    return parse_yaml(text, path)
