"""A symbolic Unpickler: runs a pickle's opcodes on symbols instead of objects.

It keeps the stack, the marks and the memo exactly as `_pickle.c` does (one flat stack with a
fence at the last MARK), so it knows every name the stream would import (GLOBAL, INST,
STACK_GLOBAL fed by the stack or the memo, EXT codes, and names resolved at load time through
getattr/__import__/attrgetter chains) and every call it would make (REDUCE, NEWOBJ, NEWOBJ_EX,
OBJ, INST, and the `__setstate__` call BUILD makes on an object a call created). Nothing is
imported or called: values are constants or the symbols of pickle_values. It tells an
`Observer` what it sees and leaves judging to the caller.

Bounds: the memo, the stack and the opcode count are limited (`Limits`). Memo entries past the
limit are not stored (reported if one is ever read back); past the stack limit the rest of the
pickle is walked without a stack, still reporting every GLOBAL, INST, STACK_GLOBAL and EXT; past
the opcode limit the walk stops.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import Protocol, cast

from custos.modelfile.context import Limits
from custos.modelfile.pickle_eval import NOTHING, EvalContext, Invoke, evaluate
from custos.modelfile.pickle_ops import BY_CODE, BY_NAME, Blob, OpReader
from custos.modelfile.pickle_values import (
    CONTAINER_ITEMS,
    Call,
    Ext,
    Global,
    Opaque,
    PDict,
    Persistent,
    PSet,
    Unresolved,
    describe,
)

_MAX_FORWARDS = 16  # partial(partial(...)) and methodcaller chains followed
_CONSTANTS = frozenset(
    BY_NAME[name].code
    for name in (
        "INT", "BININT", "BININT1", "BININT2", "LONG", "LONG1", "LONG4", "FLOAT", "BINFLOAT",
        "STRING", "BINSTRING", "SHORT_BINSTRING", "BINBYTES", "SHORT_BINBYTES", "BINBYTES8",
        "UNICODE", "SHORT_BINUNICODE", "BINUNICODE", "BINUNICODE8",
    )
)  # fmt: skip
_STRINGS = frozenset(
    BY_NAME[n].code
    for n in ("SHORT_BINUNICODE", "BINUNICODE", "BINUNICODE8", "UNICODE", "STRING",
              "BINSTRING", "SHORT_BINSTRING")
)  # fmt: skip
_NEUTRAL = frozenset(BY_NAME[n].code for n in ("MEMOIZE", "PUT", "BINPUT", "LONG_BINPUT", "FRAME"))
_IMPORTS = {BY_NAME["GLOBAL"].code: "GLOBAL", BY_NAME["INST"].code: "INST"}
_EXTS = frozenset(BY_NAME[n].code for n in ("EXT1", "EXT2", "EXT4"))
_STACK_GLOBAL = BY_NAME["STACK_GLOBAL"].code
_PLAIN = (str, bytes, bytearray, int, float, bool, type(None), tuple)


class Observer(Protocol):
    """What the machine reports while it runs."""

    def imported(self, site: Global) -> None: ...
    def unresolved(self, site: Unresolved) -> None: ...
    def called(self, call: Call) -> None: ...
    def mutated(self, offset: int, target: object, how: str) -> None: ...
    def extension(self, offset: int, code: int) -> None: ...
    def limit(self, rule: str, offset: int, message: str) -> None: ...
    def note(self, rule: str, offset: int, message: str) -> None: ...


class VMError(Exception):
    """The stream is a pickle CPython's Unpickler would reject at `offset`."""

    def __init__(self, offset: int, message: str) -> None:
        super().__init__(message)
        self.offset = offset
        self.message = message


class OpcodeLimit(Exception):
    """The opcode limit was reached; the walk stops."""


class _Degrade(Exception):
    """The stack limit was reached: go on without a stack."""


class PickleVM:
    """Runs one pickle after another from `reader`; `run()` does one, through STOP."""

    def __init__(self, reader: OpReader, observer: Observer, limits: Limits) -> None:
        self.reader = reader
        self.obs = observer
        self.limits = limits
        self.opcodes = 0
        self.eval = EvalContext(self._fetch, observer.imported)
        self.stack: list[object] = []
        self.marks: list[int] = []
        self.fence = 0
        self.memo: dict[int, object] = {}
        self.memo_overflow = False
        self.proto = 0
        self._max_memo = limits.max_memo
        self._counted = 0
        self._handlers: list[Callable[[int, object], None]] = [self._invalid] * 256
        for op in BY_CODE:
            if op is not None:
                self._handlers[op.code] = getattr(self, "_op_" + op.name.lower())
        for name, handler in self._fast_handlers().items():
            self._handlers[BY_NAME[name].code] = handler

    def _reset(self) -> None:
        self.stack.clear()
        self.marks.clear()
        self.fence = 0
        self.memo.clear()
        self.memo_overflow = False
        self.proto = 0
        self._counted = self.opcodes

    def _fetch(self, blob: Blob) -> bytes | None:
        return self.reader.fetch(blob, self.limits.max_string_bytes)

    # -- running -------------------------------------------------------------------------

    def run(self) -> None:
        """Walk one pickle through its STOP (a fresh Unpickler: new stack, memo, protocol).
        Raises VMError where CPython would stop, pickle_ops.PickleError for bad bytes,
        OpcodeLimit past the opcode limit."""
        self._reset()
        try:
            self.opcodes += self.reader.drive(
                self._handlers, self._tick, push=self.stack.append, constants=_CONSTANTS
            )
        except IndexError:
            raise VMError(self.reader.offset, "stack underflow") from None
        except _Degrade:
            self._reset()
            self.degraded()

    def _tick(self, off: int, count: int) -> None:
        self.opcodes = self._counted + count
        if self.opcodes > self.limits.max_opcodes:
            self.obs.limit("limits/opcodes", off, f"more than {self.limits.max_opcodes} opcodes")
            raise OpcodeLimit
        if len(self.stack) + len(self.marks) > self.limits.max_stack:
            self.obs.limit(
                "limits/stack",
                off,
                f"stack deeper than {self.limits.max_stack} items; "
                "the rest of this pickle is walked without a stack",
            )
            raise _Degrade

    def degraded(self) -> None:
        """Walk the rest of the current pickle without a stack: every GLOBAL/INST is still
        reported, STACK_GLOBAL with the two strings pushed just before it (or unresolved)."""
        recent: deque[object] = deque(maxlen=2)
        for off, code, arg in self.reader:
            self.opcodes += 1
            if self.opcodes > self.limits.max_opcodes:
                self.obs.limit(
                    "limits/opcodes", off, f"more than {self.limits.max_opcodes} opcodes"
                )
                raise OpcodeLimit
            if code in _STRINGS:
                recent.append(arg)
            elif code in _IMPORTS:
                module, name = cast(tuple[str, str], arg)
                self.obs.imported(Global(module, name, off, f"{_IMPORTS[code]} (stackless walk)"))
            elif code == _STACK_GLOBAL:
                texts = [self.eval.text(v) for v in recent]
                if len(texts) == 2 and texts[0] is not None and texts[1] is not None:
                    self.obs.imported(
                        Global(texts[0], texts[1], off, "STACK_GLOBAL (stackless walk)")
                    )
                else:
                    self.obs.unresolved(Unresolved(off, "operands not tracked (stackless walk)"))
                recent.clear()
            elif code in _EXTS:
                self.obs.extension(off, cast(int, arg))
            elif code not in _NEUTRAL:
                recent.clear()

    def _fast_handlers(self) -> dict[str, Callable[[int, object], None]]:
        """The commonest opcodes as closures over the stack and memo (whose identity never
        changes): the same semantics as the methods below, several times cheaper to call."""
        vm, stack, memo, bound = self, self.stack, self.memo, self.limits.max_memo
        push, pop = stack.append, stack.pop

        def memoize(off: int, arg: object) -> None:
            if len(stack) > vm.fence and len(memo) < bound:
                memo[len(memo)] = stack[-1]
            else:
                vm._store(off, len(memo))

        def binput(off: int, arg: object) -> None:
            index = cast(int, arg)
            if len(stack) > vm.fence and index < bound and len(memo) < bound:
                memo[index] = stack[-1]
            else:
                vm._store(off, index)

        def binget(off: int, arg: object) -> None:
            if arg in memo:
                push(memo[arg])
            else:
                vm._op_get(off, arg)

        def tuple2(off: int, arg: object) -> None:
            if len(stack) - vm.fence < 2:
                raise VMError(off, "TUPLE2: stack underflow")
            second = pop()
            stack[-1] = (stack[-1], second)

        def appends(off: int, arg: object) -> None:
            marks = vm.marks
            if not marks:
                raise VMError(off, "APPENDS: no MARK on the stack")
            start = marks.pop()
            items = stack[start:]
            del stack[start:]
            vm.fence = marks[-1] if marks else 0
            if len(stack) <= vm.fence:
                raise VMError(off, "APPENDS: stack underflow")
            target = stack[-1]
            if type(target) is list:
                if len(target) < CONTAINER_ITEMS:
                    target.extend(items[: CONTAINER_ITEMS - len(target)])
            else:
                vm._mutate(off, target, "APPENDS", items)

        def mark(off: int, arg: object) -> None:
            vm.fence = len(stack)
            vm.marks.append(vm.fence)

        def none(off: int, arg: object) -> None:
            push(None)

        def empty_list(off: int, arg: object) -> None:
            push([])

        def empty_tuple(off: int, arg: object) -> None:
            push(())

        def empty_dict(off: int, arg: object) -> None:
            push(PDict())

        return {
            "MEMOIZE": memoize,
            "BINPUT": binput,
            "LONG_BINPUT": binput,
            "BINGET": binget,
            "LONG_BINGET": binget,
            "TUPLE2": tuple2,
            "MARK": mark,
            "APPENDS": appends,
            "NONE": none,
            "EMPTY_LIST": empty_list,
            "EMPTY_TUPLE": empty_tuple,
            "EMPTY_DICT": empty_dict,
        }

    # -- stack -----------------------------------------------------------------------------

    def _invalid(self, off: int, arg: object) -> None:  # pragma: no cover - reader rejects
        raise VMError(off, "invalid opcode")

    def _pop(self, off: int) -> object:
        if len(self.stack) <= self.fence:
            raise VMError(off, "stack underflow")
        return self.stack.pop()

    def _top(self, off: int) -> object:
        if len(self.stack) <= self.fence:
            raise VMError(off, "stack underflow")
        return self.stack[-1]

    def _pop_mark(self, off: int) -> list[object]:
        if not self.marks:
            raise VMError(off, "no MARK on the stack")
        start = self.marks.pop()
        items = self.stack[start:]
        del self.stack[start:]
        self.fence = self.marks[-1] if self.marks else 0
        return items

    def _call(self, func: object, args: object, off: int, kind: str, kwargs: object = None) -> None:
        """Record a call and push its (evaluated or symbolic) result."""
        result: object = NOTHING
        for _ in range(_MAX_FORWARDS):
            call = Call(func, args, off, kind, kwargs)
            self.obs.called(call)
            result = evaluate(func, args, off, self.eval) if kwargs is None else NOTHING
            if not isinstance(result, Invoke):
                break
            func, args, kind = result.func, result.args, f"{kind} (forwarded)"
        self.stack.append(call if result is NOTHING or isinstance(result, Invoke) else result)

    def _mutate(self, off: int, target: object, how: str, items: object) -> None:
        """APPEND(S)/SETITEM(S)/ADDITEMS on something that is not a plain container."""
        if isinstance(target, (Global, Ext, Unresolved)):
            self.obs.mutated(off, target, how)
        elif isinstance(target, Call):
            self.obs.called(Call(target.func, (items,), off, how))

    # -- constants (plain ones are pushed by the reader itself) ----------------------------

    def _push(self, off: int, arg: object) -> None:
        self.stack.append(arg)

    _op_int = _op_binint = _op_binint1 = _op_binint2 = _op_long = _op_long1 = _op_long4 = _push
    _op_string = _op_binstring = _op_short_binstring = _op_binbytes = _push
    _op_short_binbytes = _op_binbytes8 = _op_unicode = _op_short_binunicode = _push
    _op_binunicode = _op_binunicode8 = _op_float = _op_binfloat = _push

    def _op_bytearray8(self, off: int, arg: object) -> None:
        self.stack.append(bytearray(arg) if isinstance(arg, bytes) else arg)

    def _op_none(self, off: int, arg: object) -> None:
        self.stack.append(None)

    def _op_newtrue(self, off: int, arg: object) -> None:
        self.stack.append(True)

    def _op_newfalse(self, off: int, arg: object) -> None:
        self.stack.append(False)

    def _op_next_buffer(self, off: int, arg: object) -> None:
        self.obs.note("pickle/out-of-band-buffer", off, "refers to an out-of-band buffer")
        self.stack.append(Opaque("out-of-band buffer", off))

    def _op_readonly_buffer(self, off: int, arg: object) -> None:
        self._top(off)

    # -- containers ------------------------------------------------------------------------

    def _op_empty_list(self, off: int, arg: object) -> None:
        self.stack.append([])

    def _op_empty_tuple(self, off: int, arg: object) -> None:
        self.stack.append(())

    def _op_empty_dict(self, off: int, arg: object) -> None:
        self.stack.append(PDict())

    def _op_empty_set(self, off: int, arg: object) -> None:
        self.stack.append(PSet())

    def _op_mark(self, off: int, arg: object) -> None:
        self.fence = len(self.stack)
        self.marks.append(self.fence)

    def _op_pop_mark(self, off: int, arg: object) -> None:
        self._pop_mark(off)

    def _op_pop(self, off: int, arg: object) -> None:
        if len(self.stack) > self.fence:
            self.stack.pop()
        elif self.marks and self.marks[-1] == len(self.stack):
            self._pop_mark(off)
        else:
            raise VMError(off, "POP: stack underflow")

    def _op_dup(self, off: int, arg: object) -> None:
        self.stack.append(self._top(off))

    def _op_tuple(self, off: int, arg: object) -> None:
        self.stack.append(tuple(self._pop_mark(off)))

    def _op_tuple1(self, off: int, arg: object) -> None:
        stack = self.stack
        if len(stack) - self.fence < 1:
            raise VMError(off, "TUPLE1: stack underflow")
        stack[-1] = (stack[-1],)

    def _op_tuple2(self, off: int, arg: object) -> None:
        stack = self.stack
        if len(stack) - self.fence < 2:
            raise VMError(off, "TUPLE2: stack underflow")
        second = stack.pop()
        stack[-1] = (stack[-1], second)

    def _op_tuple3(self, off: int, arg: object) -> None:
        stack = self.stack
        if len(stack) - self.fence < 3:
            raise VMError(off, "TUPLE3: stack underflow")
        third = stack.pop()
        second = stack.pop()
        stack[-1] = (stack[-1], second, third)

    def _op_list(self, off: int, arg: object) -> None:
        self.stack.append(self._pop_mark(off)[:CONTAINER_ITEMS])

    def _op_append(self, off: int, arg: object) -> None:
        value = self._pop(off)
        self._extend(off, self._top(off), [value])

    def _op_appends(self, off: int, arg: object) -> None:
        items = self._pop_mark(off)
        self._extend(off, self._top(off), items)

    def _extend(self, off: int, target: object, items: list[object]) -> None:
        if type(target) is list:
            room = CONTAINER_ITEMS - len(target)
            if room > 0:
                target.extend(items[:room])
        else:
            self._mutate(off, target, "APPENDS", items)

    def _op_dict(self, off: int, arg: object) -> None:
        items = self._pop_mark(off)
        if len(items) % 2:
            raise VMError(off, "DICT with an odd number of items")
        result = PDict()
        result.add(list(zip(items[::2], items[1::2], strict=True)))
        self.stack.append(result)

    def _op_setitem(self, off: int, arg: object) -> None:
        value = self._pop(off)
        key = self._pop(off)
        self._setitems(off, self._top(off), [key, value])

    def _op_setitems(self, off: int, arg: object) -> None:
        items = self._pop_mark(off)
        if len(items) % 2:
            raise VMError(off, "SETITEMS with an odd number of items")
        self._setitems(off, self._top(off), items)

    def _setitems(self, off: int, target: object, items: list[object]) -> None:
        if type(target) is PDict:
            target.add(list(zip(items[::2], items[1::2], strict=True)))
        else:
            self._mutate(off, target, "SETITEMS", items)

    def _op_additems(self, off: int, arg: object) -> None:
        items = self._pop_mark(off)
        target = self._top(off)
        if type(target) is PSet:
            target.add(items)
        else:
            self._mutate(off, target, "ADDITEMS", items)

    def _op_frozenset(self, off: int, arg: object) -> None:
        result = PSet(frozen=True)
        result.add(self._pop_mark(off))
        self.stack.append(result)

    # -- memo ------------------------------------------------------------------------------

    def _op_memoize(self, off: int, arg: object) -> None:
        stack, memo = self.stack, self.memo
        if len(stack) > self.fence and len(memo) < self._max_memo:
            memo[len(memo)] = stack[-1]
        else:
            self._store(off, len(memo))

    def _op_put(self, off: int, arg: object) -> None:
        self._store(off, cast(int, arg))

    _op_binput = _op_long_binput = _op_put

    def _store(self, off: int, index: int) -> None:
        value = self._top(off)
        if index < self._max_memo and (len(self.memo) < self._max_memo or index in self.memo):
            self.memo[index] = value
        else:
            self.memo_overflow = True  # reported if an untracked entry is ever read back

    def _op_get(self, off: int, arg: object) -> None:
        value = self.memo.get(cast(int, arg), NOTHING)
        if value is NOTHING:
            if not self.memo_overflow:
                raise VMError(off, f"memo entry {arg} was never stored")
            self.obs.limit(
                "limits/memo",
                off,
                f"memo entry {arg} was not tracked: the memo passed the limit of "
                f"{self._max_memo} entries",
            )
            value = Opaque("untracked memo entry", off)
        self.stack.append(value)

    _op_binget = _op_long_binget = _op_get

    # -- names and calls -------------------------------------------------------------------

    def _op_stop(self, off: int, arg: object) -> None:
        self._top(off)

    def _op_proto(self, off: int, arg: object) -> None:
        self.proto = cast(int, arg)

    def _op_frame(self, off: int, arg: object) -> None:
        pass  # the reader follows frames

    def _op_global(self, off: int, arg: object) -> None:
        module, name = cast(tuple[str, str], arg)
        site = Global(module, name, off, "GLOBAL")
        self.obs.imported(site)
        self.stack.append(site)

    def _op_stack_global(self, off: int, arg: object) -> None:
        name_value = self._pop(off)
        module_value = self._pop(off)
        module, name = self.eval.text(module_value), self.eval.text(name_value)
        site: Global | Unresolved
        if module is not None and name is not None:
            site = Global(module, name, off, "STACK_GLOBAL")
            self.obs.imported(site)
        elif isinstance(module_value, _PLAIN) and isinstance(name_value, _PLAIN):
            raise VMError(off, "STACK_GLOBAL requires two str operands")
        else:
            why = f"module {describe(module_value)}, name {describe(name_value)}"
            site = Unresolved(off, f"{why} are computed at load time")
            self.obs.unresolved(site)
        self.stack.append(site)

    def _op_inst(self, off: int, arg: object) -> None:
        module, name = cast(tuple[str, str], arg)
        args = tuple(self._pop_mark(off))
        site = Global(module, name, off, "INST")
        self.obs.imported(site)
        self._call(site, args, off, "INST")

    def _op_obj(self, off: int, arg: object) -> None:
        items = self._pop_mark(off)
        if not items:
            raise VMError(off, "OBJ without a class")
        self._call(items[0], tuple(items[1:]), off, "OBJ")

    def _op_reduce(self, off: int, arg: object) -> None:
        args = self._pop(off)
        func = self._pop(off)
        self._call(func, args, off, "REDUCE")

    def _op_newobj(self, off: int, arg: object) -> None:
        args = self._pop(off)
        cls = self._pop(off)
        self._call(cls, args, off, "NEWOBJ")

    def _op_newobj_ex(self, off: int, arg: object) -> None:
        kwargs = self._pop(off)
        args = self._pop(off)
        cls = self._pop(off)
        self._call(cls, args, off, "NEWOBJ_EX", kwargs)

    def _op_build(self, off: int, arg: object) -> None:
        state = self._pop(off)
        target = self._top(off)
        if isinstance(target, Call):
            target.state = state
            self.obs.called(Call(target.func, (state,), off, "BUILD"))
        elif isinstance(target, (Global, Ext, Unresolved)):
            self.obs.mutated(off, target, "BUILD")

    def _op_ext1(self, off: int, arg: object) -> None:
        code = cast(int, arg)
        if code <= 0:
            raise VMError(off, "EXT specifies code <= 0")
        self.obs.extension(off, code)
        self.stack.append(Ext(code, off))

    _op_ext2 = _op_ext4 = _op_ext1

    def _op_persid(self, off: int, arg: object) -> None:
        self.stack.append(Persistent(arg, off))

    def _op_binpersid(self, off: int, arg: object) -> None:
        self.stack.append(Persistent(self._pop(off), off))
