"""Name resolution for the Python rules (`pysinks`): what a name, an attribute chain or a call
in a scanned file stands for, on Python's `ast` only (the code is parsed, never imported or
run).

One walk per tree (a script, or each cell of a notebook into one shared namespace) records the
imports (`import torch as t`, `from joblib import load as jl`, `from m import *`), the names the
code binds itself, with the expressions bound to them per scope (functions, classes, lambdas),
the classes' bases, and the events the rules judge afterwards: every call, and the assignments
the caller asks for. Then a callee resolves to its dotted name through the aliases (`t.load` ->
`torch.load`; a name the code binds itself, `def eval(...)`, is `<local>.eval`, not the
builtin), and an expression folds to the string it is known to hold (literals, names bound only
to one, `open(...)`, `Path(...)`, `/` and `os.path.join`, `__file__` and `.parent`), which tells
a constant path inside the repository from one computed at runtime.

This module knows no rule: the rules (`pysinks`) pass in the dotted names they dispatch on (for
`import *`) and which assignments to record.
"""

from __future__ import annotations

import ast
import functools
import posixpath
import re
import warnings
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

from custos.repo.model import Unreadable

_DRIVE = re.compile(r"[A-Za-z]:[\\/]")
MAX_DEPTH = 8  # constant folding through names and joins: deeper is not worth following
# Conventional module aliases, used when a snippet or notebook cell uses one it never imports.
_CONVENTIONS = {"np": "numpy", "pd": "pandas", "tf": "tensorflow"}
# Calls through which a path passes unchanged (files opened, paths built).
OPENERS = frozenset({
    "open", "io.open", "builtins.open", "codecs.open", "gzip.open", "bz2.open", "lzma.open",
    "Path", "pathlib.Path", "pathlib.PurePath", "pathlib.PosixPath", "pathlib.PurePosixPath",
    "pathlib.WindowsPath", "os.fspath", "str", "os.path.abspath", "os.path.realpath",
    "os.path.normpath",
})  # fmt: skip
_JOINS = frozenset({"os.path.join", "posixpath.join"})


class Const(NamedTuple):
    """A string an expression is known to evaluate to; `path` when it went through a path
    constructor or `open` (so it names a local file, not a hub id)."""

    text: str
    path: bool


@dataclass(eq=False)
class Scope:
    """A function, class or lambda body (or the module): its dotted name and the names it
    binds, each with the expressions bound to it (None: bound to something unknown)."""

    name: str
    parent: Scope | None
    is_class: bool = False
    bound: dict[str, list[ast.expr | None]] = field(default_factory=dict)

    def child(self, name: str, *, is_class: bool = False) -> Scope:
        qual = name if self.parent is None else f"{self.name}.{name}"
        return Scope(qual, self, is_class)

    def bind(self, name: str, value: ast.expr | None) -> None:
        self.bound.setdefault(name, []).append(value)


Event = tuple[ast.Call | ast.Assign | ast.AnnAssign, Scope, int | None]
Watch = Callable[[list[ast.expr], ast.expr], bool]  # assignment targets, value: record it?


def parse(source: str) -> ast.Module:
    """The module's tree, or Unreadable with the line of the syntax error."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # invalid escapes in scanned code are not ours
            return ast.parse(source)
    except SyntaxError as exc:
        raise Unreadable(f"not valid Python: {exc.msg}", exc.lineno or _nul(source)) from None
    except ValueError as exc:  # null bytes on some 3.11 releases, lone surrogates
        raise Unreadable(f"not valid Python: {exc}", _nul(source)) from None
    except (RecursionError, MemoryError):
        raise Unreadable("not scanned: nested too deeply to parse") from None


def _nul(source: str) -> int | None:
    """The line of the first null byte, which the parser reports without one."""
    at = source.find("\0")
    return source.count("\n", 0, at) + 1 if at >= 0 else None


# -- the walk -----------------------------------------------------------------------------------


class Names:
    """What the names of one file's trees stand for. `add` walks a tree; `qual` and `const`
    answer from everything the walks learnt, so an import or a constant below its use counts."""

    def __init__(
        self,
        path: Path,
        *,
        repo_root: Path | None = None,
        known: Collection[str] = frozenset(),
        watch: Watch | None = None,
    ) -> None:
        """`known`: dotted names a `from m import *` may bring in (the callers' dispatch
        table); `watch`: the assignments worth recording as events (besides every call)."""
        self.path = path
        self.repo_root = repo_root
        self.known = known
        self.watch = watch
        self.module = Scope("<module>", None)
        self.aliases: dict[str, str] = {}  # local name -> module or module.attribute
        self.stars: list[str] = []  # modules imported with `*`
        self.assigned: set[str] = set()  # names the code binds itself
        self.classes: dict[str, list[ast.expr]] = {}  # class name -> bases
        self.events: list[Event] = []
        self.sources: dict[int | None, str] = {}
        self._visits: dict[type[ast.AST], Callable[[Any, Scope, int | None], bool]] = {
            ast.Call: self._call,
            ast.Name: self._name,
            ast.Import: self._import,
            ast.ImportFrom: self._import_from,
            ast.FunctionDef: self._function,
            ast.AsyncFunctionDef: self._function,
            ast.Lambda: self._lambda,
            ast.ClassDef: self._class,
            ast.Assign: self._assign,
            ast.AnnAssign: self._ann_assign,
            ast.With: self._with,
            ast.AsyncWith: self._with,
            ast.arg: self._arg,
        }
        self._stack: list[tuple[ast.AST, Scope]] = []
        self._memo: dict[tuple[str, int], Const | None] = {}  # folded names, by scope

    def add(self, tree: ast.Module, source: str, cell: int | None = None) -> None:
        """Walk one tree (iteratively: deep expressions do not exhaust the recursion limit)."""
        self.sources[cell] = source
        stack = self._stack
        stack.append((tree, self.module))
        visits = self._visits
        while stack:
            node, scope = stack.pop()
            visit = visits.get(type(node))
            if visit is not None and visit(node, scope, cell):
                continue  # the visit pushed the children itself
            stack.extend((child, scope) for child in ast.iter_child_nodes(node))

    def _push(self, nodes: list[Any], scope: Scope) -> None:
        self._stack.extend((n, scope) for n in nodes if n is not None)

    def _call(self, node: ast.Call, scope: Scope, cell: int | None) -> bool:
        self.events.append((node, scope, cell))
        return False

    def _name(self, node: ast.Name, scope: Scope, cell: int | None) -> bool:
        if isinstance(node.ctx, ast.Store):  # for targets, walrus, augmented assignment
            scope.bind(node.id, None)
            self.assigned.add(node.id)
        return True

    def _arg(self, node: ast.arg, scope: Scope, cell: int | None) -> bool:
        scope.bind(node.arg, None)
        self.assigned.add(node.arg)
        return True  # annotations hold no calls worth judging

    def _import(self, node: ast.Import, scope: Scope, cell: int | None) -> bool:
        for alias in node.names:
            if alias.asname:
                self.aliases[alias.asname] = alias.name
            else:  # `import a.b` binds `a`
                head = alias.name.partition(".")[0]
                self.aliases[head] = head
        return True

    def _import_from(self, node: ast.ImportFrom, scope: Scope, cell: int | None) -> bool:
        module = "." * node.level + (node.module or "")
        for alias in node.names:
            if alias.name == "*":
                self.stars.append(module)
            else:
                self.aliases[alias.asname or alias.name] = f"{module}.{alias.name}"
        return True

    def _function(
        self, node: ast.FunctionDef | ast.AsyncFunctionDef, scope: Scope, cell: int | None
    ) -> bool:
        scope.bind(node.name, None)
        self.assigned.add(node.name)
        inner = scope.child(node.name)
        self._arguments(node.args, scope, inner)
        self._push([*node.decorator_list, node.returns], scope)
        self._push(node.body, inner)
        return True

    def _lambda(self, node: ast.Lambda, scope: Scope, cell: int | None) -> bool:
        # A lambda binds its parameters but has no name: its hits count in the enclosing scope.
        inner = Scope(scope.name, scope)
        self._arguments(node.args, scope, inner)
        self._push([node.body], inner)
        return True

    def _arguments(self, args: ast.arguments, outer: Scope, inner: Scope) -> None:
        """Parameters bind in the body's scope; defaults are evaluated outside it."""
        self._push([*args.posonlyargs, *args.args, args.vararg, *args.kwonlyargs, args.kwarg],
                   inner)  # fmt: skip
        self._push([*args.defaults, *args.kw_defaults], outer)

    def _class(self, node: ast.ClassDef, scope: Scope, cell: int | None) -> bool:
        scope.bind(node.name, None)
        self.assigned.add(node.name)
        self.classes[node.name] = node.bases
        self._push([*node.decorator_list, *node.bases, *node.keywords], scope)
        self._push(node.body, scope.child(node.name, is_class=True))
        return True

    def _assign(self, node: ast.Assign, scope: Scope, cell: int | None) -> bool:
        for target in node.targets:
            self._target(target, node.value, scope)
        if self.watch is not None and self.watch(node.targets, node.value):
            self.events.append((node, scope, cell))
        self._push([node.value], scope)
        return True

    def _ann_assign(self, node: ast.AnnAssign, scope: Scope, cell: int | None) -> bool:
        if node.value is None:
            return True  # an annotation alone binds nothing
        self._target(node.target, node.value, scope)
        if self.watch is not None and self.watch([node.target], node.value):
            self.events.append((node, scope, cell))
        self._push([node.value], scope)
        return True

    def _target(self, target: ast.expr, value: ast.expr, scope: Scope) -> None:
        """`name = value` is remembered (a constant path may be read later); other targets
        (tuples, subscripts, attributes) go through the walk."""
        if isinstance(target, ast.Name):
            scope.bind(target.id, value)
            self.assigned.add(target.id)
        else:
            self._push([target], scope)

    def _with(self, node: ast.With | ast.AsyncWith, scope: Scope, cell: int | None) -> bool:
        for item in node.items:
            if item.optional_vars is not None:
                self._target(item.optional_vars, item.context_expr, scope)
        self._push([item.context_expr for item in node.items], scope)
        self._push(node.body, scope)
        return True

    # -- names and values -----------------------------------------------------------------------

    def qual(self, node: ast.expr) -> str:
        """The callee's dotted name through the imports (`t.load` -> `torch.load`); a call in
        the chain shows as `()`, anything else as `?`."""
        suffix: list[str] = []
        while True:
            if isinstance(node, ast.Attribute):
                suffix.append("." + node.attr)
                node = node.value
            elif isinstance(node, ast.Call):
                suffix.append("()")
                node = node.func
            else:
                break
        head = self._resolve(node.id) if isinstance(node, ast.Name) else "?"
        return head + "".join(reversed(suffix))

    def _resolve(self, name: str) -> str:
        if name in self.aliases:
            return self.aliases[name]
        if name in self.assigned:  # the code's own `eval`, `yaml = YAML()`: not the library's
            return f"<local>.{name}"
        for module in self.stars:
            if f"{module}.{name}" in self.known or f"{module}.{name}" in OPENERS:
                return f"{module}.{name}"
        return _CONVENTIONS.get(name, name)

    def const(self, node: ast.expr, scope: Scope, depth: int = 0) -> Const | None:
        """The string the expression evaluates to, when the code fixes it: literals, names
        bound only to such (flow-insensitively), `open(...)`, `Path(...)`, `/` and joins,
        `__file__` and `.parent`."""
        if depth > MAX_DEPTH:
            return None
        if isinstance(node, ast.Constant):
            return Const(node.value, False) if isinstance(node.value, str) else None
        if isinstance(node, ast.Name):
            if node.id == "__file__":
                return Const(self._file, True)
            return self._bound(node.id, scope, depth + 1)
        if isinstance(node, ast.Attribute) and node.attr == "parent":
            base = self.const(node.value, scope, depth + 1)
            return Const(_parent(base.text), True) if base is not None else None
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div):
            return self._joined([node.left, node.right], scope, depth)
        if isinstance(node, ast.Call):
            return self._const_call(node, scope, depth)
        return None

    def _const_call(self, call: ast.Call, scope: Scope, depth: int) -> Const | None:
        name = self.qual(call.func)
        if name in _JOINS or (name.startswith(("pathlib.", "Path")) and name in OPENERS):
            return self._joined(list(call.args), scope, depth) if call.args else None
        if name in OPENERS or name == "os.path.dirname":
            first = argument(call, 0, "file", "filename", "path")
            value = self.const(first, scope, depth + 1) if first is not None else None
            if value is None:
                return None
            return Const(_parent(value.text) if name == "os.path.dirname" else value.text, True)
        if isinstance(call.func, ast.Attribute) and call.func.attr in ("open", "resolve"):
            value = self.const(call.func.value, scope, depth + 1)  # Path("x").open("rb")
            return Const(value.text, True) if value is not None and value.path else None
        return None

    def _joined(self, parts: list[ast.expr], scope: Scope, depth: int) -> Const | None:
        values = [self.const(p, scope, depth + 1) for p in parts]
        texts = [v.text.replace("\\", "/") for v in values if v is not None]
        if len(texts) != len(parts) or any(isinstance(p, ast.Starred) for p in parts):
            return None
        return Const(posixpath.join(*texts), True)

    def _bound(self, name: str, scope: Scope, depth: int) -> Const | None:
        """A name's constant value: from the nearest scope that binds it (class bodies are not
        visible from the functions in them), when every binding there is the same constant."""
        current: Scope | None = scope
        while current is not None and (
            name not in current.bound or (current is not scope and current.is_class)
        ):
            current = current.parent
        if current is None:
            return None
        key = (name, id(current))
        if key in self._memo:
            return self._memo[key]
        self._memo[key] = None  # a name defined through itself is unknown
        found = current.bound[name]
        values = set()
        for value in found:
            if value is None or (folded := self.const(value, current, depth)) is None:
                return None
            values.add(folded)
        result = values.pop() if len(values) == 1 else None
        self._memo[key] = result
        return result

    @functools.cached_property
    def _file(self) -> str:
        """This file as `__file__` resolves inside the repository, to follow `.parent`s."""
        path = self.path
        if self.repo_root is None:
            return path.name if path.is_absolute() else path.as_posix()
        for candidate, root in ((path, self.repo_root),
                                (path.absolute(), self.repo_root.absolute())):  # fmt: skip
            try:
                return candidate.relative_to(root).as_posix()
            except ValueError:
                continue
        return path.name

    def fixed(self, node: ast.expr | None, scope: Scope) -> bool:
        """A literal, or a name bound only to the same string: text the author wrote."""
        if isinstance(node, ast.Constant):
            return True
        value = self.const(node, scope) if isinstance(node, ast.Name) else None
        return value is not None and not value.path

    def in_repo(self, node: ast.expr | None, scope: Scope) -> bool:
        """A constant relative path that stays inside the repository."""
        value = self.const(node, scope) if node is not None else None
        return value is not None and _inside(value.text)

    def is_local(self, node: ast.expr, scope: Scope) -> bool:
        """A model source that is a local directory, not a hub id: a path object, a constant
        starting with `.`, `/` or `~`, or one naming a directory of the repository."""
        value = self.const(node, scope)
        if value is None:
            return False
        text = value.text
        if value.path or text.startswith((".", "/", "~", "\\")) or _DRIVE.match(text):
            return True
        return self.repo_root is not None and _is_dir(self.repo_root / text)


# -- helpers ------------------------------------------------------------------------------------


def argument(call: ast.Call, index: int, *names: str) -> ast.expr | None:
    """A call's argument by position or keyword; None when absent or hidden by `*args`."""
    positional = call.args[: index + 1]
    if any(isinstance(a, ast.Starred) for a in positional):
        return None
    if len(call.args) > index:
        return call.args[index]
    return next((k.value for k in call.keywords if k.arg in names), None)


def _inside(text: str) -> bool:
    """A path that stays inside the repository: relative, no URL, no `..` out of it."""
    if "://" in text or text.startswith(("/", "\\", "~")) or _DRIVE.match(text):
        return False
    norm = posixpath.normpath(text.replace("\\", "/"))
    return norm != ".." and not norm.startswith("../")


def _parent(text: str) -> str:
    norm = posixpath.normpath(text.replace("\\", "/"))
    if norm == "." or norm == ".." or norm.endswith("/.."):
        return posixpath.join(norm, "..") if norm != "." else ".."
    return posixpath.dirname(norm) or "."


def _is_dir(path: Path) -> bool:
    try:
        return path.is_dir()
    except (OSError, ValueError):
        return False
