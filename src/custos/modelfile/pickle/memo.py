"""Opcode handlers of the symbolic Unpickler for the memo (MEMOIZE, PUT, GET and their
binary forms).

The memo is bounded (`Limits.max_memo`): entries past the limit are not stored, and reading one
back is reported as a limit rather than as a broken pickle, since CPython would have found it.
`PickleVM._fast_handlers` (vm) has faster twins of MEMOIZE, BINPUT and BINGET that fall
back to `_store` and `_op_get` here.
"""

from __future__ import annotations

from typing import cast

from custos.modelfile.pickle.core import VMCore, VMError
from custos.modelfile.pickle.evaluate import NOTHING
from custos.modelfile.pickle.values import Opaque


class MemoOps(VMCore):
    """`_op_<name>` handlers for the memo."""

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
