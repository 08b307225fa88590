"""A static pickle machine that finds where a pickle ends and what simple values it builds.

It never imports or calls anything: globals become `Global` records and calls become `Obj`
records. Containers that need it (joblib, legacy PyTorch) use it to follow streams that mix
pickles with raw bytes. Reading follows `pickle._Unpickler`: a FRAME is read as one block, so
raw reads by a loader (joblib's array bytes) start at the file position after the current frame.
The security analysis of pickles is `scan`'s job, not this module's.
"""

from __future__ import annotations

import codecs
import re
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field

from custos.modelfile.pickle.opsource import ARG, BYTES, NAMES, TEXT, Source, Truncated, WalkError

__all__ = [
    "NAMES",
    "Exhausted",
    "Global",
    "Machine",
    "Obj",
    "Opaque",
    "Overflow",
    "Source",
    "Truncated",
    "WalkError",
]

MAX_TRACKED_ITEMS = 4096
MAX_VALUE_STRING = 4096
MAX_KEY_NODES = 256  # values hashed as dict keys: hash() of a tuple 200,000 deep overflows C
# What `skim` passes over in one regex match: opcodes that neither import, stop, enter a frame
# nor set a flag, with no argument or a fixed-size one (runs of NONE, MARK, POP, BININT1, ...
# are what padding, and tensors filled with one value, are made of).
_SKIMMED = {
    code: n
    for code, (how, n) in ARG.items()
    if how in ("none", "fixed")
    and NAMES[code]
    not in ("STOP", "STACK_GLOBAL", "BINPERSID", "PROTO", "FRAME", "EXT1", "EXT2", "EXT4")
}
_INERT = re.compile(
    b"(?:["
    + re.escape(bytes(code for code, n in _SKIMMED.items() if n == 0))
    + b"]"
    + b"".join(
        b"|[" + re.escape(bytes(c for c, m in _SKIMMED.items() if m == n)) + b"].{%d}" % n
        for n in sorted({n for n in _SKIMMED.values() if n})
    )
    + b")+",
    re.DOTALL,
)


@dataclass(frozen=True)
class Global:
    module: str
    name: str


@dataclass
class Obj:
    """An object the loader would create by calling `cls` (or a callable) with `args`."""

    cls: object
    args: tuple[object, ...] = ()
    state: dict[str, object] = field(default_factory=dict)
    init: bool = True  # False when only __new__ runs (NEWOBJ, OBJ/INST without arguments)


@dataclass
class Opaque:
    """A value this machine does not track (large strings, lists, buffers, results of calls)."""

    kind: str = "value"


BuildHook = Callable[["Machine", object], None]
# Called for every import opcode with what it names, or None when the name is not known
# statically (a STACK_GLOBAL on strings too long to keep, or met while skimming).
ImportHook = Callable[["Machine", "Global | None"], None]


class Exhausted(Exception):
    """More opcodes than `Machine.max_opcodes` were walked."""


class Overflow(WalkError):
    """The stack, metastack or memo grew past `max_items`: not the loader's error, the
    machine's limit (`skim` goes on from here without a stack)."""


class Machine:
    """Runs one pickle from `source` to its STOP, tracking small values only."""

    def __init__(
        self,
        source: Source,
        on_build: BuildHook | None = None,
        max_items: int = 1_000_000,
        on_import: ImportHook | None = None,
    ) -> None:
        self.src = source
        self.on_build = on_build
        self.on_import = on_import
        self.max_items = max_items
        self.max_string = 64 << 20
        self.max_opcodes = 1 << 62
        self.stack: list[object] = []
        self.marks: list[list[object]] = []
        self.memo: dict[int, object] = {}
        self.opcodes = 0
        self.globals: list[Global] = []
        self.flags: set[str] = set()  # persistent ids and extension codes seen
        self.result: object = None  # the value on top of the stack at STOP

    def run(self) -> int:
        """Walk to STOP; returns the file position after it."""
        src, step, most = self.src, self._step, self.max_items  # locals: the loop is hot
        while True:
            pos = src.pos
            code = src.read(1)[0]
            self.opcodes += 1
            if self.opcodes > self.max_opcodes:
                raise Exhausted
            kind = ARG.get(code)
            if kind is None:
                raise WalkError(pos, f"invalid opcode 0x{code:02x}")
            name = NAMES[code]
            if name == "STOP":
                self.result = self.stack[-1] if self.stack else Opaque("empty stack")
                return src.file_pos
            step(name, kind, pos)
            if len(self.stack) + len(self.marks) > most or len(self.memo) > most:
                raise Overflow(pos, "stack or memo beyond the tracking limit")

    def skim(self) -> int:
        """Go on after `Overflow` without a stack, to STOP (returns the file position after
        it): opcodes and arguments are read as the loader reads them, values are not tracked,
        so only an invalid opcode or the end of the stream stops it. Every import opcode is
        recorded and passed to `on_import` (a STACK_GLOBAL as an unknown name)."""
        while True:
            self.src.skip_run(_INERT)
            pos = self.src.pos
            code = self.src.read(1)[0]
            self.opcodes += 1
            if self.opcodes > self.max_opcodes:
                raise Exhausted
            kind = ARG.get(code)
            if kind is None:
                raise WalkError(pos, f"invalid opcode 0x{code:02x}")
            name = NAMES[code]
            if name == "STOP":
                self.result = Opaque("skimmed")
                return self.src.file_pos
            arg = self._arg(kind)
            if name == "FRAME":
                assert isinstance(arg, bytes)
                self.src.start_frame(int.from_bytes(arg, "little"))
            elif name == "PROTO":
                assert isinstance(arg, bytes)
                if arg[0] > 5:
                    raise WalkError(pos, f"unsupported pickle protocol: {arg[0]}")
            elif name in ("GLOBAL", "INST"):
                self._imported(arg)
            elif name == "STACK_GLOBAL":
                self.globals.append(Global("?", "?"))
                if self.on_import is not None:
                    self.on_import(self, None)
            elif name in ("PERSID", "BINPERSID", "EXT1", "EXT2", "EXT4"):
                self.flags.add(name)

    def _imported(self, lines: object) -> Global:
        """The name a GLOBAL or INST line pair gives, recorded and passed to `on_import`.
        A line longer than max_string is not kept: as a module name it cannot be imported
        (file system paths bound module names), as an attribute path it can (`a.b.c...`)."""
        assert isinstance(lines, tuple)
        module, name = lines
        if module is None or name is None:
            ref = Global("?", "?")
            self.globals.append(ref)
            if module is not None and self.on_import is not None:
                self.on_import(self, None)
            return ref
        ref = Global(module[:-1].decode("utf-8", "replace"), name[:-1].decode("utf-8", "replace"))
        self.globals.append(ref)
        if self.on_import is not None:
            self.on_import(self, ref)
        return ref

    def _arg(self, kind: tuple[str, int]) -> object:
        how, n = kind
        if how == "none":
            return None
        if how == "fixed":
            return self.src.read(n)
        if how == "lines":
            lines = [self.src.readline(self.max_string) for _ in range(n)]
            return lines[0] if n == 1 else tuple(lines)
        raw = self.src.read(abs(n))
        length = int.from_bytes(raw, "little", signed=n < 0)
        if length < 0:
            raise WalkError(self.src.pos, "negative byte count")
        if length > MAX_VALUE_STRING:
            self.src.skip(length)
            return Opaque("long")
        return self.src.read(length)

    def _pop(self, pos: int) -> object:
        if not self.stack:
            raise WalkError(pos, "unpickling stack underflow")
        return self.stack.pop()

    def _pop_mark(self, pos: int) -> list[object]:
        if not self.marks:
            raise WalkError(pos, "MARK expected but not found")
        items, self.stack = self.stack, self.marks.pop()
        return items

    def _step(self, name: str, kind: tuple[str, int], pos: int) -> None:
        arg = self._arg(kind)
        # The commonest opcodes first (the branches are disjoint: the order is only speed).
        if name == "BINFLOAT":
            self.stack.append(0.0)
        elif name in ("PUT", "BINPUT", "LONG_BINPUT", "MEMOIZE"):
            if not self.stack:
                raise WalkError(pos, "memoizing with an empty stack")
            self.memo[len(self.memo) if name == "MEMOIZE" else _index(name, arg, pos)] = self.stack[
                -1
            ]
        elif name in TEXT or name in BYTES:
            self.stack.append(_decode(name, arg, pos))
        elif name in ("INT", "LONG", "FLOAT", "BININT", "BININT1", "BININT2", "LONG1", "LONG4"):
            self.stack.append(_number(name, arg, pos))
        elif name in ("GET", "BINGET", "LONG_BINGET"):
            index = _index(name, arg, pos)
            if index not in self.memo:
                raise WalkError(pos, f"memo key {index} not found")
            self.stack.append(self.memo[index])
        elif name == "FRAME":
            assert isinstance(arg, bytes)
            self.src.start_frame(int.from_bytes(arg, "little"))
        elif name == "PROTO":
            assert isinstance(arg, bytes)
            if arg[0] > 5:
                raise WalkError(pos, f"unsupported pickle protocol: {arg[0]}")
        elif name == "PERSID":
            self.flags.add(name)
            self.stack.append(Opaque("persistent"))
        elif name == "MARK":
            self.marks.append(self.stack)
            self.stack = []
        elif name == "POP":
            if self.stack:
                self.stack.pop()
            else:
                self._pop_mark(pos)
        elif name == "POP_MARK":
            self._pop_mark(pos)
        elif name == "DUP":
            top = self._pop(pos)
            self.stack.append(top)
            self.stack.append(top)
        elif name in ("NONE", "NEWTRUE", "NEWFALSE"):
            self.stack.append({"NONE": None, "NEWTRUE": True, "NEWFALSE": False}[name])
        elif name in ("EMPTY_TUPLE", "TUPLE1", "TUPLE2", "TUPLE3", "TUPLE"):
            size = {"EMPTY_TUPLE": 0, "TUPLE1": 1, "TUPLE2": 2, "TUPLE3": 3}.get(name)
            if size is None:
                marked = tuple(self._pop_mark(pos))  # first: it replaces self.stack
                self.stack.append(marked)
            else:
                items = [self._pop(pos) for _ in range(size)][::-1]
                self.stack.append(tuple(items))
        elif name in ("EMPTY_DICT", "DICT"):
            items = self._pop_mark(pos) if name == "DICT" else []
            value: dict[object, object] = {}
            _set_items(value, items)
            self.stack.append(value)
        elif name in ("SETITEM", "SETITEMS"):
            items = (
                self._pop_mark(pos)
                if name == "SETITEMS"
                else [*reversed([self._pop(pos), self._pop(pos)])]
            )
            target = self._pop(pos)
            if isinstance(target, dict):
                _set_items(target, items)
            self.stack.append(target)
        elif name in ("EMPTY_LIST", "LIST", "EMPTY_SET", "FROZENSET"):
            if name in ("LIST", "FROZENSET"):
                self._pop_mark(pos)
            self.stack.append(Opaque(name.lower()))
        elif name in ("APPEND", "APPENDS", "ADDITEMS"):
            if name == "APPEND":
                self._pop(pos)
            else:
                self._pop_mark(pos)
            if not self.stack:
                raise WalkError(pos, "unpickling stack underflow")
        elif name in ("GLOBAL", "INST"):
            ref = self._imported(arg)
            if name == "GLOBAL":
                self.stack.append(ref)
            else:
                args = tuple(self._pop_mark(pos))
                self.stack.append(Obj(ref, args, init=bool(args)))
        elif name == "STACK_GLOBAL":
            qual, module = self._pop(pos), self._pop(pos)
            if isinstance(qual, str) and isinstance(module, str):
                ref = Global(module, qual)
                if self.on_import is not None:
                    self.on_import(self, ref)
            else:  # the loader refuses anything but str; a name too long to keep is one
                ref = Global("?", "?")
                if self.on_import is not None and _maybe_text(qual) and isinstance(module, str):
                    self.on_import(self, None)
            self.globals.append(ref)
            self.stack.append(ref)
        elif name in ("REDUCE", "NEWOBJ"):
            call_args = self._pop(pos)
            func = self._pop(pos)
            self.stack.append(_call(func, call_args, init=name == "REDUCE"))
        elif name == "NEWOBJ_EX":
            self._pop(pos)
            call_args = self._pop(pos)
            self.stack.append(_call(self._pop(pos), call_args, init=False))
        elif name == "OBJ":
            items = self._pop_mark(pos)
            if not items:
                raise WalkError(pos, "unpickling stack underflow")
            self.stack.append(Obj(items[0], tuple(items[1:]), init=len(items) > 1))
        elif name == "BUILD":
            state = self._pop(pos)
            target = self._pop(pos)
            if isinstance(target, Obj):
                _merge_state(target, state)
            self.stack.append(target)
            if self.on_build is not None:
                self.on_build(self, target)
        elif name == "BINPERSID":
            self.flags.add(name)
            self._pop(pos)
            self.stack.append(Opaque("persistent"))
        elif name in ("EXT1", "EXT2", "EXT4", "NEXT_BUFFER"):
            if name != "NEXT_BUFFER":
                self.flags.add(name)
            self.stack.append(Opaque(name.lower()))
        elif name == "READONLY_BUFFER":
            self._pop(pos)
            self.stack.append(Opaque("buffer"))
        else:  # pragma: no cover - every opcode of pickletools is handled above
            raise WalkError(pos, f"unhandled opcode {name}")


def _maybe_text(value: object) -> bool:
    return isinstance(value, str) or (isinstance(value, Opaque) and value.kind == "text")


def _index(name: str, arg: object, pos: int) -> int:
    if arg is None:  # a line longer than max_string: no memo index is that long
        raise WalkError(pos, "invalid memo index")
    assert isinstance(arg, bytes)
    if name in ("GET", "PUT"):
        try:
            return int(arg[:-1])
        except ValueError:
            raise WalkError(pos, "invalid memo index") from None
    return int.from_bytes(arg, "little")


def _decode(name: str, arg: object, pos: int) -> object:
    if arg is None or isinstance(arg, Opaque):
        return Opaque("text" if name in TEXT else "bytes")
    assert isinstance(arg, bytes)
    if name in BYTES:
        return arg
    try:
        if name == "STRING":
            body = arg[:-1]
            if len(body) < 2 or body[0] != body[-1] or body[:1] not in (b"'", b'"'):
                raise WalkError(pos, "the STRING opcode argument must be quoted")
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                return codecs.escape_decode(body[1:-1])[0].decode("ascii")
        if name in ("BINSTRING", "SHORT_BINSTRING"):
            return arg.decode("ascii")
        if name == "UNICODE":
            return arg[:-1].decode("raw-unicode-escape")
        return arg.decode("utf-8", "surrogatepass")
    except (UnicodeDecodeError, ValueError):
        if name == "STRING":
            raise WalkError(pos, "undecodable STRING argument") from None
        return Opaque("text")


def _number(name: str, arg: object, pos: int) -> object:
    if not isinstance(arg, bytes):
        return Opaque("long")
    try:
        if name == "INT":
            if arg in (b"00\n", b"01\n"):
                return arg == b"01\n"
            return int(arg, 0)
        if name == "LONG":
            text = arg[:-1]
            return int(text[:-1] if text.endswith(b"L") else text, 0)
        if name == "FLOAT":
            return float(arg[:-1])
        if name == "BININT":
            return int.from_bytes(arg, "little", signed=True)
        return int.from_bytes(arg, "little", signed=name.startswith("LONG"))
    except ValueError:
        raise WalkError(pos, f"invalid {name} argument") from None


def _set_items(target: dict[object, object], items: list[object]) -> None:
    for key, value in zip(items[::2], items[1::2], strict=False):
        if len(target) >= MAX_TRACKED_ITEMS:
            target[Opaque] = Opaque("overflow")
            return
        if not _plain_key(key):
            target[Opaque] = Opaque("untracked key")
            continue
        try:
            target[key] = value
        except TypeError:
            target[Opaque] = Opaque("unhashable key")


def _plain_key(value: object) -> bool:
    """Whether `value` is safe to hash: constants, and tuples of them of bounded size."""
    todo, budget = [value], MAX_KEY_NODES
    while todo:
        item = todo.pop()
        budget -= 1
        if budget < 0:
            return False
        if isinstance(item, tuple):
            if len(item) > budget:
                return False
            todo.extend(item)
        elif item is not None and not isinstance(item, (str, bytes, int, float, Global)):
            return False
    return True


def _call(func: object, args: object, *, init: bool) -> object:
    reconstructor = isinstance(func, Global) and func == Global("copyreg", "_reconstructor")
    if reconstructor and isinstance(args, tuple) and args:
        return Obj(args[0], init=False)
    if isinstance(args, tuple):
        return Obj(func, args, init=init)
    return Obj(func, (Opaque("args"),), init=init)


def _merge_state(target: Obj, state: object) -> None:
    slots: object = None
    if isinstance(state, tuple) and len(state) == 2:
        state, slots = state
    for part in (state, slots):
        if isinstance(part, dict):
            for key, value in part.items():
                if isinstance(key, str):
                    target.state[key] = value
        elif part is not None:
            target.state["__state__"] = part
