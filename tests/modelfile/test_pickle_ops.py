"""The opcode table and the streaming reader, checked against pickletools and CPython."""

from __future__ import annotations

import io
import pickle
import pickletools
from typing import BinaryIO, cast

import pytest

from custos.modelfile.pickle.args import parse_c_int
from custos.modelfile.pickle.buffered_input import Blob
from custos.modelfile.pickle.errors import Malformed, Truncated
from custos.modelfile.pickle.ops import BY_CODE, BY_NAME, OPCODES
from custos.modelfile.pickle.reader import OpReader
from tests.modelfile import picklegen as gen

SAMPLES = [
    {"a": [1, 2.5, "x", b"y" * 10, None, True, False], "t": (1, 2, 3), "s": {1}, "f": frozenset()},
    [10**40, -(10**40), -1, 255, 256, 65535, 65536, 2**31, "é" * 3, bytearray(b"q")],
    {"nested": [[], {}, ()], "big": "x" * 300},
]


def test_table_matches_pickletools() -> None:
    assert len(OPCODES) == len(pickletools.opcodes) == 68
    for op in pickletools.opcodes:
        ours = BY_NAME[op.name]
        assert ours.code == ord(op.code)
        assert ours.proto == op.proto
        assert BY_CODE[ord(op.code)] is ours


def _walk(data: bytes, **kwargs: int) -> list[tuple[int, int, object]]:
    reader = OpReader(io.BytesIO(data), **kwargs)
    ops: list[tuple[int, int, object]] = []
    while reader.more():
        ops.extend(reader)
    return ops


@pytest.mark.parametrize("protocol", range(6))
@pytest.mark.parametrize("sample", range(len(SAMPLES)))
def test_reader_matches_genops(protocol: int, sample: int) -> None:
    data = pickle.dumps(SAMPLES[sample], protocol=protocol)
    expected = list(pickletools.genops(data))
    got = _walk(data, keep_bytes=1 << 20)
    assert [(pos, ord(op.code)) for op, _, pos in expected] == [(o, c) for o, c, _ in got]
    for (op, arg, _), (_, _, ours) in zip(expected, got, strict=True):
        if op.name in ("GLOBAL", "INST"):
            arg = tuple(arg.split(" ", 1))
        if isinstance(arg, bytes) and op.name in ("STRING", "BINSTRING", "SHORT_BINSTRING"):
            arg = arg.decode("latin-1")
        assert ours == arg, op.name


def test_drive_sees_the_same_opcodes_as_iteration() -> None:
    data = pickle.dumps(SAMPLES, protocol=4) + pickle.dumps(SAMPLES, protocol=2)
    seen: list[tuple[int, object]] = []
    handlers = [lambda off, arg: seen.append((off, arg))] * 256
    reader = OpReader(io.BytesIO(data), keep_bytes=1 << 20)
    count = 0
    while reader.more():
        count += reader.drive(handlers, lambda off, n: None)
    assert count == len(seen) == len(_walk(data, keep_bytes=1 << 20))
    assert seen == [(o, a) for o, _, a in _walk(data, keep_bytes=1 << 20)]


def test_long_payloads_become_blobs_and_can_be_fetched() -> None:
    payload = bytes(range(256)) * 40
    data = pickle.dumps([payload, "y" * 5000], protocol=4)
    reader = OpReader(io.BytesIO(data), keep_bytes=256)
    blobs = [arg for _, _, arg in reader if isinstance(arg, Blob)]
    assert [b.kind for b in blobs] == ["bytes", "str"]
    assert blobs[0].length == len(payload)
    assert blobs[0].head == payload[:64]
    assert reader.fetch(blobs[0], 1 << 20) == payload
    assert reader.fetch(blobs[0], 10) is None
    window = reader.open_blob(blobs[1])
    assert window is not None
    assert window.read() == b"y" * 5000


def test_truncation_inside_an_argument_and_before_stop() -> None:
    data = pickle.dumps("abcdef" * 10, protocol=2)
    with pytest.raises(Truncated):
        list(OpReader(io.BytesIO(data[:20])))
    with pytest.raises(Truncated, match="before STOP"):
        list(OpReader(io.BytesIO(data[:-1])))
    with pytest.raises(Truncated):  # a large payload that is announced but not there
        list(OpReader(io.BytesIO(b"\x80\x04B" + (10**6).to_bytes(4, "little") + b"x")))


@pytest.mark.parametrize(
    "data",
    [
        b"\xff",  # not an opcode
        b"\x80\x06N.",  # protocol 6 does not exist
        b"S'unquoted\n.",  # STRING must be quoted
        b"T\xff\xff\xff\xff.",  # negative BINSTRING length
        b"I12x\n.",  # not an integer
        b"g-1\n.",  # negative memo index
        b"c\xff\xfe\nx\n.",  # GLOBAL lines must be UTF-8
        b"i\xc3\xa9\nx\n.",  # INST lines must be ASCII
        b"\x8c\x02\xff\xfe.",  # invalid UTF-8 in SHORT_BINUNICODE
    ],
)
def test_malformed_arguments(data: bytes) -> None:
    with pytest.raises(Malformed):
        list(OpReader(io.BytesIO(data)))


def test_c_int_parsing_follows_strtol() -> None:
    assert parse_c_int(b"0x10") == 16
    assert parse_c_int(b"010") == 8
    assert parse_c_int(b"01") is True
    assert parse_c_int(b"00") is False
    assert parse_c_int(b"-5") == -5
    assert parse_c_int(b"7\x00junk") == 7
    assert parse_c_int(b"123456789012345678901234567890") == 123456789012345678901234567890
    with pytest.raises(ValueError, match="invalid literal"):
        parse_c_int(b"12x")


def test_text_lines_may_be_long_without_being_kept() -> None:
    data = b"V" + b"a" * 100_000 + b"\n."
    ops = list(OpReader(io.BytesIO(data)))
    assert isinstance(ops[0][2], Blob)
    assert ops[0][2].length == 100_000


def test_frame_crossing_is_reported_and_both_readings_differ() -> None:
    data = gen.frame_disagreement()
    seamless = OpReader(io.BytesIO(data))
    first = [arg for _, _, arg in seamless]
    assert [i.kind for i in seamless.issues] == ["frame-straddle"]
    assert "AAAab" in first
    dropped = OpReader(io.BytesIO(data), discard_frames=True)
    second = [arg for _, _, arg in dropped]
    assert ("os", "system") not in second  # SHORT_BINUNICODE pairs, then STACK_GLOBAL
    assert "os" in second
    assert "system" in second
    assert dropped.issues == []


def test_oversized_frame_is_an_issue() -> None:
    body = gen.NONE + gen.STOP
    reader = OpReader(io.BytesIO(gen.PROTO4 + gen.frame(body)), max_frame=1)
    list(reader)
    assert [i.kind for i in reader.issues] == ["frame-size"]


def test_unseekable_streams_are_read_through() -> None:
    class Pipe(io.RawIOBase):
        def __init__(self, data: bytes) -> None:
            self._inner = io.BytesIO(data)

        def readable(self) -> bool:
            return True

        def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
            chunk = self._inner.read(len(buffer))
            buffer[: len(chunk)] = chunk
            return len(chunk)

        def seekable(self) -> bool:
            return False

        def tell(self) -> int:
            raise OSError("not seekable")

    data = pickle.dumps([b"z" * 5000, 1], protocol=4)
    reader = OpReader(cast(BinaryIO, Pipe(data)))
    ops = list(reader)
    assert ops[-1][1] == ord(".")
    blob = next(arg for _, _, arg in ops if isinstance(arg, Blob))
    assert reader.fetch(blob, 1 << 20) is None
