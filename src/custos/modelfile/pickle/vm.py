"""A symbolic Unpickler: runs a pickle's opcodes on symbols instead of objects.

`PickleVM` binds a handler to every opcode (the families live in containers,
memo and calls, on the shared state of core) and has the reader
drive them through each STOP. The commonest opcodes get closures instead of methods
(`_fast_handlers`), and plain constants are pushed by the reader itself: that is what keeps the
walk over millions of opcodes fast. It knows every name the stream would import and every call
it would make; nothing is imported or called.

Bounds: the memo, the stack and the opcode count are limited (`Limits`). Memo entries past the
limit are not stored (reported if one is ever read back); past the stack limit the rest of the
pickle is walked without a stack (`degraded`), still reporting every GLOBAL, INST, STACK_GLOBAL
and EXT; past the opcode limit the walk stops.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import cast

from custos.modelfile.context import Limits
from custos.modelfile.pickle.calls import CallOps
from custos.modelfile.pickle.containers import ContainerOps
from custos.modelfile.pickle.core import Observer, VMError
from custos.modelfile.pickle.memo import MemoOps
from custos.modelfile.pickle.ops import BY_CODE, BY_NAME
from custos.modelfile.pickle.reader import OpReader
from custos.modelfile.pickle.values import CONTAINER_ITEMS, Global, PDict, Unresolved

# Opcodes whose argument is the value: the reader pushes it onto the stack without a call.
_CONSTANTS = frozenset(
    BY_NAME[name].code
    for name in (
        "INT", "BININT", "BININT1", "BININT2", "LONG", "LONG1", "LONG4", "FLOAT", "BINFLOAT",
        "STRING", "BINSTRING", "SHORT_BINSTRING", "BINBYTES", "SHORT_BINBYTES", "BINBYTES8",
        "UNICODE", "SHORT_BINUNICODE", "BINUNICODE", "BINUNICODE8",
    )
)  # fmt: skip
# What the stackless walk (`degraded`) tells apart: strings that may feed a STACK_GLOBAL,
# opcodes that leave them in place, and the opcodes that import.
_STRINGS = frozenset(
    BY_NAME[n].code
    for n in ("SHORT_BINUNICODE", "BINUNICODE", "BINUNICODE8", "UNICODE", "STRING",
              "BINSTRING", "SHORT_BINSTRING")
)  # fmt: skip
_NEUTRAL = frozenset(BY_NAME[n].code for n in ("MEMOIZE", "PUT", "BINPUT", "LONG_BINPUT", "FRAME"))
_IMPORTS = {BY_NAME["GLOBAL"].code: "GLOBAL", BY_NAME["INST"].code: "INST"}
_EXTS = frozenset(BY_NAME[n].code for n in ("EXT1", "EXT2", "EXT4"))
_STACK_GLOBAL = BY_NAME["STACK_GLOBAL"].code
_METHODS = [(op.code, "_op_" + op.name.lower()) for op in BY_CODE if op is not None]


class OpcodeLimit(Exception):
    """The opcode limit was reached; the walk stops."""


class _Degrade(Exception):
    """The stack limit was reached: go on without a stack."""


class PickleVM(ContainerOps, MemoOps, CallOps):
    """Runs one pickle after another from `reader`; `run()` does one, through STOP."""

    def __init__(
        self,
        reader: OpReader,
        observer: Observer,
        limits: Limits,
        makes_instances: Callable[[Global], bool] | None = None,
    ) -> None:
        super().__init__(reader, observer, limits, makes_instances)
        self.opcodes = 0
        self._counted = 0
        self._handlers: list[Callable[[int, object], None]] = [self._invalid] * 256
        for code, method in _METHODS:
            self._handlers[code] = getattr(self, method)
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

    # -- running -------------------------------------------------------------------------

    def run(self) -> None:
        """Walk one pickle through its STOP (a fresh Unpickler: new stack, memo, protocol).
        Raises VMError where CPython would stop, errors.PickleError for bad bytes,
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
