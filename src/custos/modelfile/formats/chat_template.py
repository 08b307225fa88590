"""Static analysis of Jinja chat templates (GGUF metadata, tokenizer_config.json, .jinja files).

Imported only when a template is found: Jinja2 is not needed to scan anything else.

Templates are parsed with Jinja2's own parser and the syntax tree is walked; nothing is ever
rendered. Template injection in model files (CVE-2024-34359 and kin) reaches Python through
attribute walks such as `cycler.__init__.__globals__.os.popen(...)`: names starting with `_`,
the gadget roots Jinja exposes (`lipsum`, `cycler`, `joiner`, `self`, Flask's `config` and
`request`), `os` / `popen` / `eval` / `exec`, and the same names spelled out by string
operations (`'__cla' ~ 'ss__'`, `'__ssalc__'|reverse`, `|attr(...)`, `'{0.__class__}'.format`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Literal

import jinja2
from jinja2 import nodes
from jinja2.ext import Extension
from jinja2.parser import Parser

from custos.findings import Severity
from custos.modelfile.context import ScanContext
from custos.modelfile.formats.template_rules import (
    DYNAMIC,
    GADGET_GLOBAL,
    INCLUDE,
    PYTHON_ACCESS,
    UNPARSED,
)

GADGET_ROOTS = frozenset(
    {"lipsum", "cycler", "joiner", "self", "config", "request", "url_for", "g",
     "get_flashed_messages", "session"}
)  # fmt: skip
DANGER = frozenset(
    {"os", "popen", "eval", "exec", "subprocess", "import_module", "builtins", "globals",
     "getattr", "setattr", "func_globals", "f_globals", "f_locals", "f_builtins", "f_back",
     "gi_frame", "gi_code", "cr_frame", "ag_frame", "tb_frame", "co_code", "mro", "im_func",
     "execfile", "spawnv", "compile"}
)  # fmt: skip
DANGER_NAMES = frozenset({"os", "eval", "exec", "popen", "subprocess", "builtins", "getattr"})
ATTRIBUTE_FILTERS = frozenset(
    {"map", "selectattr", "rejectattr", "sort", "groupby", "sum", "unique", "min", "max"}
)
DUNDER = re.compile(r"__\w+__")
FORMAT_ACCESS = re.compile(r"\{[^{}]*[.\[][^{}]*\}")
MAX_SOURCE = 1 << 20
Recognised = Literal["strict", "tags", "expressions"]


class _Generation(Extension):
    """transformers' `{% generation %}...{% endgeneration %}` block, parsed as a plain scope."""

    tags = {"generation"}  # noqa: RUF012 - Jinja's API

    def parse(self, parser: Parser) -> nodes.Node:
        next(parser.stream)
        body = parser.parse_statements(("name:endgeneration",), drop_needle=True)
        return nodes.Scope(body)


def _environment() -> jinja2.Environment:
    return jinja2.Environment(extensions=["jinja2.ext.loopcontrols", _Generation])  # noqa: S701


def parses(source: str) -> bool:
    """Whether Jinja2 can parse `source` (it is never rendered)."""
    try:
        _environment().parse(source[:MAX_SOURCE])
    except (jinja2.TemplateSyntaxError, RecursionError, MemoryError):
        return False
    return True


def check_template(
    source: str, location: str, ctx: ScanContext, *, recognised: Recognised = "strict"
) -> None:
    """Parse `source` as Jinja (never rendering it) and report what it reaches.

    `recognised` says why `source` is taken for a template. `strict`: where it is says so (a
    GGUF key, a `chat_template` field, a template file name); a parse failure is
    `template/unparsed`, and so is a source longer than the MAX_SOURCE characters checked.
    `tags`: plain text with `{%` tags, a template only if it parses. `expressions`: plain text
    with only `{{ }}` expressions, as prose, Markdown and other template languages have too:
    reported only if it parses and the rules see Python reached (a name starting with `_`,
    os/popen/eval..., a dunder string); a gadget root or a computed key alone is no proof."""
    strict = recognised == "strict"
    try:
        tree = _environment().parse(source[:MAX_SOURCE])
    except (jinja2.TemplateSyntaxError, RecursionError, MemoryError) as err:
        if strict:
            ctx.emit(UNPARSED.id, UNPARSED.severity, f"template does not parse: {err}", location)
        return
    problems = list(_problems(tree))
    if recognised == "expressions" and not any(proof for *_, proof in problems):
        return
    if strict and len(source) > MAX_SOURCE:
        message = f"template of {len(source)} characters: only the first {MAX_SOURCE} checked"
        ctx.emit(UNPARSED.id, UNPARSED.severity, message, location)
    reported: set[tuple[str, str]] = set()

    def emit(rule_id: str, severity: Severity, message: str) -> None:
        if (rule_id, message) not in reported:
            reported.add((rule_id, message))
            ctx.emit(rule_id, severity, message, location)

    for rule_id, severity, message, _proof in problems:
        emit(rule_id, severity, message)


def _problems(tree: nodes.Template) -> Iterator[tuple[str, Severity, str, bool]]:
    """(rule, severity, message, proof): proof when the finding itself shows Python reached."""
    critical = PYTHON_ACCESS.id, PYTHON_ACCESS.severity
    for node in tree.find_all(nodes.Node):
        if isinstance(node, nodes.Getattr):
            if _bad_name(node.attr):
                yield (*critical, f"attribute access .{node.attr}", True)
            if isinstance(node.node, nodes.Name) and node.node.name in GADGET_ROOTS | {"namespace"}:
                message = f"attribute of gadget root {node.node.name}.{node.attr}"
                yield (*critical, message, False)
            target = node.node.value if isinstance(node.node, nodes.Const) else None
            formats = node.attr in ("format", "format_map") and isinstance(target, str)
            if formats and FORMAT_ACCESS.search(str(target)):
                yield (*critical, f"str.format with attribute access {target!r:.60}", True)
        elif isinstance(node, nodes.Getitem):
            yield from _key(node.arg, "item")
        elif isinstance(node, nodes.Filter | nodes.Test) and node.name in ("attr",):
            for arg in node.args:
                yield from _key(arg, "|attr")
        elif isinstance(node, nodes.Filter) and node.name in ATTRIBUTE_FILTERS:
            keys = [kw.value for kw in node.kwargs if kw.key == "attribute"]
            if node.name in ("selectattr", "rejectattr"):
                keys += node.args[:1]
            for key in keys:
                yield from _key(key, f"|{node.name}")
        elif isinstance(node, nodes.Name):
            if node.name in DANGER_NAMES or node.name.startswith("_"):
                yield (*critical, f"name {node.name}", True)
            elif node.name in GADGET_ROOTS:
                yield GADGET_GLOBAL.id, GADGET_GLOBAL.severity, f"global {node.name}", False
        elif isinstance(node, nodes.Const) and isinstance(node.value, str):
            if DUNDER.search(node.value):
                yield (*critical, f"dunder name in string {node.value!r:.60}", True)
        elif isinstance(node, nodes.Include | nodes.Import | nodes.FromImport | nodes.Extends):
            what = f"{type(node).__name__.lower()} of another template"
            yield INCLUDE.id, INCLUDE.severity, what, False


def _bad_name(name: str) -> bool:
    return name.startswith("_") or name in DANGER


def _key(node: nodes.Node, how: str) -> Iterator[tuple[str, Severity, str, bool]]:
    if isinstance(node, nodes.CondExpr):
        yield from _key(node.expr1, how)
        if node.expr2 is not None:
            yield from _key(node.expr2, how)
        return
    value = _fold(node)
    if value is not None:
        if _bad_name(value):
            yield PYTHON_ACCESS.id, PYTHON_ACCESS.severity, f"{how} access {value!r:.60}", True
    elif isinstance(node, nodes.Concat | nodes.Add | nodes.Mul | nodes.Mod | nodes.Filter):
        message = f"{how} name computed by {type(node).__name__}"
        yield DYNAMIC.id, DYNAMIC.severity, message, False
    elif isinstance(node, nodes.Call):
        yield DYNAMIC.id, DYNAMIC.severity, f"{how} name computed by a call", False


def _fold(node: nodes.Node, depth: int = 0) -> str | None:
    """The constant string an expression evaluates to, for the string operations it knows."""
    if depth > 50:
        return None
    if isinstance(node, nodes.Const):
        return node.value if isinstance(node.value, str) else None
    if isinstance(node, nodes.Concat):
        parts = [_fold(n, depth + 1) for n in node.nodes]
        return None if None in parts else "".join(p for p in parts if p is not None)
    if isinstance(node, nodes.Add):
        left, right = _fold(node.left, depth + 1), _fold(node.right, depth + 1)
        return None if left is None or right is None else left + right
    if isinstance(node, nodes.Filter) and node.node is not None:
        if node.name == "join" and isinstance(node.node, nodes.List | nodes.Tuple):
            items = [_fold(n, depth + 1) for n in node.node.items]
            sep = _fold(node.args[0], depth + 1) if node.args else ""
            if None in items or sep is None:
                return None
            return sep.join(i for i in items if i is not None)
        inner = _fold(node.node, depth + 1)
        if inner is None:
            return None
        simple = {"reverse": inner[::-1], "lower": inner.lower(), "upper": inner.upper(),
                  "trim": inner.strip(), "string": inner, "safe": inner, "e": inner}  # fmt: skip
        if node.name in simple:
            return simple[node.name]
        if node.name == "replace" and len(node.args) >= 2:
            old, new = _fold(node.args[0], depth + 1), _fold(node.args[1], depth + 1)
            if old is not None and new is not None:
                return inner.replace(old, new)
    return None
