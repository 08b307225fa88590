"""Opcode handlers of the symbolic Unpickler for names, calls and object building.

Every name the stream would import (GLOBAL, INST, STACK_GLOBAL fed by the stack or the memo, EXT
codes) is reported, and every call it would make (REDUCE, NEWOBJ, NEWOBJ_EX, OBJ, INST, and
the `__setstate__` call BUILD makes on an object a call created) is recorded through `_call`,
which also resolves names computed at load time through getattr/__import__/attrgetter chains.
Also here: persistent ids (torch's legacy module ids resolve to their class), and the opcodes
about the stream itself (PROTO, FRAME, STOP).
"""

from __future__ import annotations

from typing import cast

from custos.modelfile.pickle.core import VMCore, VMError
from custos.modelfile.pickle.values import (
    Call,
    Ext,
    Global,
    PDict,
    Persistent,
    PSet,
    Unresolved,
    describe,
)

# Values the machine keeps as what they are, and which are never an exact str.
_NOT_STR = (bytes, bytearray, int, float, type(None), tuple, list, PDict, PSet)
# Calls whose result is an instance of the class called (when the class is known), and how
# that class may have been named: imported directly, not computed (getattr, persistent ids...).
_INSTANTIATING = frozenset({"NEWOBJ", "NEWOBJ_EX", "REDUCE", "OBJ", "INST"})
_IMPORTED = frozenset({"GLOBAL", "STACK_GLOBAL", "INST"})


class CallOps(VMCore):
    """`_op_<name>` handlers for names, calls, BUILD, extensions and persistent ids."""

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
        elif self._not_str(module_value) or self._not_str(name_value):
            # _pickle.c and pickle.py require two exact str and stop before importing anything
            raise VMError(
                off,
                f"STACK_GLOBAL requires two str operands, got module {describe(module_value)}, "
                f"name {describe(name_value)}",
            )
        else:
            why = f"module {describe(module_value)}, name {describe(name_value)}"
            site = Unresolved(off, f"{why} are computed at load time")
            self.obs.unresolved(site)
        self.stack.append(site)

    def _not_str(self, value: object) -> bool:
        """Whether `value` is known not to be an exact str at load time: a constant or
        container of another type, or an instance of an imported class the caller says makes
        no str (`makes_instances`). Results of functions, computed names, unknown or refused
        classes and untracked values may be anything."""
        if type(value) in _NOT_STR or isinstance(value, bool):
            return True
        return (
            isinstance(value, Call)
            and value.kind in _INSTANTIATING
            and isinstance(value.func, Global)
            and value.func.via in _IMPORTED
            and self.makes_instances(value.func)
        )

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
        self.stack.append(_persistent(self._pop(off), off))


def _persistent(pid: object, off: int) -> object:
    """What persistent_load returns. torch's legacy format saves a whole module's classes as
    ("module", class, source file, source) and its loader returns the class itself: that class
    was imported (and classified) where the id names it, so calls to it are judged as calls to
    that name. Every other id stays an opaque loader result."""
    if (
        isinstance(pid, tuple)
        and len(pid) == 4
        and pid[0] in ("module", b"module")
        and isinstance(pid[1], Global)
    ):
        return pid[1]
    return Persistent(pid, off)
