"""The pickle opcode table (protocols 0-5): each opcode's byte, name, protocol and argument kind.

Everything that walks a pickle looks opcodes up here: the reader (reader) to know how an
argument is encoded, the symbolic machine (vm) to bind a handler to each opcode by name.
`ARG_OF` maps each byte to its argument kind (-1 when the byte is no opcode) for the reader's
hot loop; how long each kind is and what it decodes to is the reader's business. Checked
against `pickletools.opcodes` in the tests.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

HIGHEST_PROTOCOL = 5


class Arg(IntEnum):
    """How an opcode's argument is encoded in the stream."""

    NONE = 0
    UINT1 = 1
    UINT2 = 2
    INT4 = 3
    UINT4 = 4
    UINT8 = 5
    LONG1 = 6
    LONG4 = 7
    INT_LINE = 8  # INT: decimal line, "00"/"01" are False/True
    LONG_LINE = 9  # LONG: decimal line with an optional trailing L
    FLOAT_LINE = 10
    FLOAT8 = 11
    STRING_LINE = 12  # STRING: quoted, backslash-escaped line
    UNICODE_LINE = 13  # UNICODE: raw-unicode-escape line
    ASCII_LINE = 14  # PERSID
    INDEX_LINE = 15  # PUT / GET: decimal memo index
    GLOBAL_PAIR = 16  # GLOBAL: module and name lines, UTF-8
    INST_PAIR = 17  # INST: module and name lines, ASCII
    STRING1 = 18
    STRING4 = 19
    BYTES1 = 20
    BYTES4 = 21
    BYTES8 = 22
    UNICODE1 = 23
    UNICODE4 = 24
    UNICODE8 = 25
    BYTEARRAY8 = 26


@dataclass(frozen=True)
class OpInfo:
    """One opcode: its byte, its name in `pickletools`, its argument kind, the protocol that
    introduced it."""

    code: int
    name: str
    arg: Arg
    proto: int


def _op(code: str, name: str, arg: Arg, proto: int) -> OpInfo:
    return OpInfo(ord(code), name, arg, proto)


OPCODES: tuple[OpInfo, ...] = (
    _op("I", "INT", Arg.INT_LINE, 0),
    _op("J", "BININT", Arg.INT4, 1),
    _op("K", "BININT1", Arg.UINT1, 1),
    _op("M", "BININT2", Arg.UINT2, 1),
    _op("L", "LONG", Arg.LONG_LINE, 0),
    _op("\x8a", "LONG1", Arg.LONG1, 2),
    _op("\x8b", "LONG4", Arg.LONG4, 2),
    _op("S", "STRING", Arg.STRING_LINE, 0),
    _op("T", "BINSTRING", Arg.STRING4, 1),
    _op("U", "SHORT_BINSTRING", Arg.STRING1, 1),
    _op("B", "BINBYTES", Arg.BYTES4, 3),
    _op("C", "SHORT_BINBYTES", Arg.BYTES1, 3),
    _op("\x8e", "BINBYTES8", Arg.BYTES8, 4),
    _op("\x96", "BYTEARRAY8", Arg.BYTEARRAY8, 5),
    _op("\x97", "NEXT_BUFFER", Arg.NONE, 5),
    _op("\x98", "READONLY_BUFFER", Arg.NONE, 5),
    _op("N", "NONE", Arg.NONE, 0),
    _op("\x88", "NEWTRUE", Arg.NONE, 2),
    _op("\x89", "NEWFALSE", Arg.NONE, 2),
    _op("V", "UNICODE", Arg.UNICODE_LINE, 0),
    _op("\x8c", "SHORT_BINUNICODE", Arg.UNICODE1, 4),
    _op("X", "BINUNICODE", Arg.UNICODE4, 1),
    _op("\x8d", "BINUNICODE8", Arg.UNICODE8, 4),
    _op("F", "FLOAT", Arg.FLOAT_LINE, 0),
    _op("G", "BINFLOAT", Arg.FLOAT8, 1),
    _op("]", "EMPTY_LIST", Arg.NONE, 1),
    _op("a", "APPEND", Arg.NONE, 0),
    _op("e", "APPENDS", Arg.NONE, 1),
    _op("l", "LIST", Arg.NONE, 0),
    _op(")", "EMPTY_TUPLE", Arg.NONE, 1),
    _op("t", "TUPLE", Arg.NONE, 0),
    _op("\x85", "TUPLE1", Arg.NONE, 2),
    _op("\x86", "TUPLE2", Arg.NONE, 2),
    _op("\x87", "TUPLE3", Arg.NONE, 2),
    _op("}", "EMPTY_DICT", Arg.NONE, 1),
    _op("d", "DICT", Arg.NONE, 0),
    _op("s", "SETITEM", Arg.NONE, 0),
    _op("u", "SETITEMS", Arg.NONE, 1),
    _op("\x8f", "EMPTY_SET", Arg.NONE, 4),
    _op("\x90", "ADDITEMS", Arg.NONE, 4),
    _op("\x91", "FROZENSET", Arg.NONE, 4),
    _op("0", "POP", Arg.NONE, 0),
    _op("2", "DUP", Arg.NONE, 0),
    _op("(", "MARK", Arg.NONE, 0),
    _op("1", "POP_MARK", Arg.NONE, 1),
    _op("g", "GET", Arg.INDEX_LINE, 0),
    _op("h", "BINGET", Arg.UINT1, 1),
    _op("j", "LONG_BINGET", Arg.UINT4, 1),
    _op("p", "PUT", Arg.INDEX_LINE, 0),
    _op("q", "BINPUT", Arg.UINT1, 1),
    _op("r", "LONG_BINPUT", Arg.UINT4, 1),
    _op("\x94", "MEMOIZE", Arg.NONE, 4),
    _op("\x82", "EXT1", Arg.UINT1, 2),
    _op("\x83", "EXT2", Arg.UINT2, 2),
    _op("\x84", "EXT4", Arg.INT4, 2),
    _op("c", "GLOBAL", Arg.GLOBAL_PAIR, 0),
    _op("\x93", "STACK_GLOBAL", Arg.NONE, 4),
    _op("R", "REDUCE", Arg.NONE, 0),
    _op("b", "BUILD", Arg.NONE, 0),
    _op("i", "INST", Arg.INST_PAIR, 0),
    _op("o", "OBJ", Arg.NONE, 1),
    _op("\x81", "NEWOBJ", Arg.NONE, 2),
    _op("\x92", "NEWOBJ_EX", Arg.NONE, 4),
    _op("\x80", "PROTO", Arg.UINT1, 2),
    _op(".", "STOP", Arg.NONE, 0),
    _op("\x95", "FRAME", Arg.UINT8, 4),
    _op("P", "PERSID", Arg.ASCII_LINE, 0),
    _op("Q", "BINPERSID", Arg.NONE, 1),
)

BY_CODE: tuple[OpInfo | None, ...] = tuple(
    next((op for op in OPCODES if op.code == code), None) for code in range(256)
)
BY_NAME: dict[str, OpInfo] = {op.name: op for op in OPCODES}
# Argument kind by opcode byte, -1 for bytes that are no opcode: one index in the hot loop.
ARG_OF: tuple[int, ...] = tuple(-1 if op is None else int(op.arg) for op in BY_CODE)

STOP = BY_NAME["STOP"].code
FRAME = BY_NAME["FRAME"].code
PROTO = BY_NAME["PROTO"].code
