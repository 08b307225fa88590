"""Opcode handlers of the symbolic Unpickler for constants and containers.

Constants (ints, floats, strings, bytes, booleans, None, out-of-band buffers) and the opcodes
that build and fill tuples, lists, dicts and sets, plus MARK, POP and DUP, which shape the
stack. Plain containers are kept (up to `CONTAINER_ITEMS` items each); filling anything else (a
name, a call's result) is reported through `_mutate`, since that runs code at load time.
The commonest of these have faster twins in `PickleVM._fast_handlers` (vm) that must
keep the same semantics.
"""

from __future__ import annotations

from custos.modelfile.pickle.core import VMCore, VMError
from custos.modelfile.pickle.values import CONTAINER_ITEMS, Opaque, PDict, PSet


class ContainerOps(VMCore):
    """`_op_<name>` handlers for constants and containers."""

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
