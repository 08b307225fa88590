"""The data scanner and the encrypted-file reader under generated input: random bytes, valid
CSV and JSON Lines with bytes flipped, inserted and cut, lines nested thousands deep, huge
cells. The scanner always answers with a report (an `error` at worst), never an exception;
the decryptor refuses with its own errors only."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from custos.datacrypt.format import FormatError, parse_header
from custos.datacrypt.stream import AuthenticationError, decrypt_file, encrypt_file
from custos.datascan.scan import Settings, scan_file

SEEDS = {
    "csv": b"id,email,phone,card\n"
    + b"".join(
        b"%d,user%d@example.org,(415) 555-%04d,4111111111111111\n" % (i, i, i) for i in range(40)
    ),
    "jsonl": b"".join(
        json.dumps({"user": {"mail": f"u{i}@example.org", "ip": f"10.0.0.{i}"}}).encode() + b"\n"
        for i in range(40)
    ),
}
FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _scan(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "data.csv"
        path.write_bytes(data)
        report = scan_file(path, Settings(sample=50))
        assert report.error is None or "\n" not in report.error
        json.dumps(report.to_json())  # always serialisable


@FUZZ
@given(st.binary(max_size=4096))
def test_random_bytes(data: bytes) -> None:
    _scan(data)


@FUZZ
@given(
    st.sampled_from(sorted(SEEDS)),
    st.lists(st.tuples(st.integers(0, 4000), st.binary(min_size=1, max_size=8)), max_size=8),
    st.integers(0, 4000),
)
def test_mutated_csv_and_json_lines(kind: str, edits: list[tuple[int, bytes]], cut: int) -> None:
    data = bytearray(SEEDS[kind])
    for at, inserted in edits:
        at %= len(data) + 1
        data[at : at + 1] = inserted
    _scan(bytes(data[: max(cut, 1)]))


@settings(max_examples=12, deadline=None)
@given(st.integers(10, 20_000))
def test_deeply_nested_json_lines(depth: int) -> None:
    deep = '{"a":' * depth + "1" + "}" * depth
    _scan((deep + "\n" + '{"x": "ok@example.org"}\n').encode())


def test_huge_cells() -> None:
    cell = "word " * 400_000  # a 2 MB free-text cell
    _scan(f"id,note\n1,{cell} mail me at big@example.org\n2,short\n".encode())


@FUZZ
@given(st.binary(max_size=200))
def test_random_headers(data: bytes) -> None:
    try:
        header = parse_header(data)
    except FormatError:
        return
    assert header.size <= len(data)


@FUZZ
@given(st.lists(st.tuples(st.integers(0, 10_000), st.integers(1, 255)), min_size=1, max_size=4),
       st.integers(0, 10_000))  # fmt: skip
def test_mutated_ciphertexts(flips: list[tuple[int, int]], cut: int) -> None:
    key = bytes(range(32))
    with tempfile.TemporaryDirectory() as tmp:
        source, sealed, out = Path(tmp) / "p", Path(tmp) / "c", Path(tmp) / "o"
        source.write_bytes(bytes(range(256)) * 20)
        encrypt_file(source, sealed, "k", key, segment_size=512)
        data = bytearray(sealed.read_bytes())
        for at, mask in flips:
            data[at % len(data)] ^= mask
        sealed.write_bytes(bytes(data[: max(1, len(data) - cut % len(data))]))
        try:
            decrypt_file(sealed, out, lambda _id: key)
        except (AuthenticationError, FormatError):
            assert not out.exists()
        else:  # only an untouched file may open, and then completely
            assert out.read_bytes() == source.read_bytes()
