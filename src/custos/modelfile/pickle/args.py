"""Decoding opcode arguments from their bytes, the way `_pickle.c` decodes them.

Pure functions over bytes already read: the INT opcode's C `strtol` rules, quoted and
backslash-escaped STRING lines, Python 2 `str` payloads, the other text-line arguments (LONG,
FLOAT, UNICODE, PERSID, memo indexes). The reader (reader) finds the bytes; this module
says what they mean, or raises `Malformed` where CPython's Unpickler would refuse them.
"""

from __future__ import annotations

import codecs

from custos.modelfile.pickle.errors import Malformed
from custos.modelfile.pickle.ops import Arg


def parse_c_int(text: bytes) -> int | bool:
    """INT's argument as `_pickle.c` reads it: `strtol(s, &end, 0)` up to a NUL or the end,
    two-character 0 and 1 as False and True, else Python's `int(s, 0)`."""
    line = text.split(b"\0", 1)[0]
    s = line.lstrip(b" \t\n\v\f\r")
    sign = 1
    if s[:1] in (b"+", b"-"):
        sign = -1 if s[:1] == b"-" else 1
        s = s[1:]
    base = 10
    if s[:2].lower() == b"0x" and s[2:3] and s[2:3] in b"0123456789abcdefABCDEF":
        base, s = 16, s[2:]
    elif s[:1] == b"0":
        base = 8
    digits = b"0123456789abcdef"[:base]
    end = 0
    while end < len(s) and s[end : end + 1].lower() in digits:
        end += 1
    if end and s[end:] == b"":
        value = sign * int(s[:end], base)
        if -(1 << 63) <= value < (1 << 63):
            return bool(value) if len(text) == 2 and value in (0, 1) else value
    return int(text, 0)


def bad_utf8(start: int, exc: UnicodeDecodeError) -> Malformed:
    """The error for a unicode argument that is not UTF-8 (surrogates allowed)."""
    return Malformed(start, f"invalid UTF-8 in a unicode argument: {exc.reason}")


def decode_py2_string(raw: bytes) -> str:
    """Python 2 `str` payloads: text for the unpicklers that decode them (ASCII, UTF-8, latin-1)."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def decode_quoted(line: bytes, start: int) -> str:
    """STRING's argument: a quoted line with Python 2 backslash escapes."""
    if len(line) >= 2 and line[:1] == line[-1:] and line[:1] in (b"'", b'"'):
        return decode_py2_string(codecs.escape_decode(line[1:-1])[0])
    raise Malformed(start, "the STRING opcode argument must be quoted")


def decode_line(kind: int, line: bytes, start: int) -> object:
    """The argument of a one-line text opcode (INT, LONG, FLOAT, STRING, UNICODE, PERSID, PUT,
    GET) from its line without the newline."""
    try:
        if kind == Arg.INT_LINE:
            return parse_c_int(line)
        if kind == Arg.LONG_LINE:
            return int(line[:-1] if line.endswith(b"L") else line, 0)
        if kind == Arg.INDEX_LINE:
            index = int(line, 10)
            if index < 0:
                raise Malformed(start, f"negative memo index {index}")
            return index
        if kind == Arg.FLOAT_LINE:
            return float(line)
        if kind == Arg.ASCII_LINE:
            return line.decode("ascii")
        if kind == Arg.UNICODE_LINE:
            return line.decode("raw-unicode-escape")
        return decode_quoted(line, start)
    except (ValueError, UnicodeDecodeError) as exc:
        raise Malformed(start, f"bad text argument {line[:40]!r}: {exc}") from exc
