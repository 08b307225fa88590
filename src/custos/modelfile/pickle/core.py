"""The state of the symbolic Unpickler and the primitives its opcode handlers share.

`VMCore` holds the stack, the marks and the memo exactly as `_pickle.c` does (one flat stack
with a fence at the last MARK), and offers what every family of handlers needs: popping within
the fence, popping to the last MARK, recording a call (evaluated through evaluate when its
function is known and its arguments constant), reporting a mutation of something that is not a
plain container. The handlers themselves are grouped by family (containers,
memo, calls) and assembled with the run loop in `PickleVM` (vm).

Nothing is imported or called: values are constants or the symbols of values. The
machine tells an `Observer` what it sees and leaves judging to the caller.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from custos.modelfile.context import Limits
from custos.modelfile.pickle.buffered_input import Blob
from custos.modelfile.pickle.evaluate import NOTHING, EvalContext, Invoke, evaluate
from custos.modelfile.pickle.reader import OpReader
from custos.modelfile.pickle.values import Call, Ext, Global, Unresolved

_MAX_FORWARDS = 16  # partial(partial(...)) and methodcaller chains followed


class Observer(Protocol):
    """What the machine reports while it runs."""

    def imported(self, site: Global) -> None: ...
    def unresolved(self, site: Unresolved) -> None: ...
    def called(self, call: Call) -> None: ...
    def mutated(self, offset: int, target: object, how: str) -> None: ...
    def extension(self, offset: int, code: int) -> None: ...
    def limit(self, rule: str, offset: int, message: str) -> None: ...
    def note(self, rule: str, offset: int, message: str) -> None: ...


def _no_class(site: Global) -> bool:
    return False


class VMError(Exception):
    """The stream is a pickle CPython's Unpickler would reject at `offset`."""

    def __init__(self, offset: int, message: str) -> None:
        super().__init__(message)
        self.offset = offset
        self.message = message


class VMCore:
    """One Unpickler's state (stack, marks, memo, protocol) and the primitives on it."""

    def __init__(
        self,
        reader: OpReader,
        observer: Observer,
        limits: Limits,
        makes_instances: Callable[[Global], bool] | None = None,
    ) -> None:
        self.reader = reader
        self.obs = observer
        self.limits = limits
        # True for an imported name known to be a class whose instances are never an exact str
        # (the caller's policy decides); without it no call result counts as one.
        self.makes_instances = makes_instances or _no_class
        self.eval = EvalContext(self._fetch, observer.imported)
        self.stack: list[object] = []
        self.marks: list[int] = []
        self.fence = 0
        self.memo: dict[int, object] = {}
        self.memo_overflow = False
        self.proto = 0
        self._max_memo = limits.max_memo

    def _fetch(self, blob: Blob) -> bytes | None:
        return self.reader.fetch(blob, self.limits.max_string_bytes)

    # -- primitives ------------------------------------------------------------------------

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
