"""Seeded mutants of model files for the oracle fuzz test: pickles (byte flips, opcode runs,
FRAME length edits, truncation, payloads spliced at opcode boundaries) and zip checkpoints
(member renames, compression method changes, duplicated central-directory entries, other
folders first). `mutant(seed, index)` is deterministic, so a failure is reproduced by its pair.

Everything is built here, from picklegen's streams and `pickle.dumps` of plain data; nothing is
ever loaded.
"""

from __future__ import annotations

import contextlib
import io
import os
import pickle
import pickletools
import random
import struct
import warnings
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from tests.modelfile import picklegen as pg

# Payload bodies (no PROTO/STOP) that leave one value on the stack: splice them anywhere.
PAYLOADS = (
    pg.call(pg.glob("os", "system"), pg.su("id")),
    pg.call(pg.glob("posix", "system"), pg.su("id")),
    pg.call(pg.sglob("subprocess", "check_output"), pg.su("id")),
    pg.call(pg.sglob("builtins", "eval"), pg.su("1")),
    pg.call(pg.glob("__builtin__", "exec"), pg.su("1")),
    pg.MARK + pg.glob("builtins", "exec") + pg.su("1") + pg.OBJ,
    pg.sglob("subprocess", "Popen") + pg.su("id") + pg.TUPLE1 + pg.NEWOBJ,
    b"(S'id'\nios\nsystem\n",
    pg.call(pg.sglob("runpy", "run_path"), pg.su("x.py")),
    pg.call(pg.glob("nt", "system"), pg.su("id")),
)
# Short opcode runs inserted at random: stack and memo shuffles, frames, protocol changes.
OPCODE_RUNS = (
    pg.MARK, pg.POP, pg.DUP, pg.NONE, pg.EMPTY_TUPLE, pg.EMPTY_DICT, pg.EMPTY_LIST,
    pg.MEMOIZE, pg.binput(0), pg.binget(0), pg.binput(1), pg.binget(1), pg.STOP,
    pg.STACK_GLOBAL, pg.REDUCE, pg.BUILD, pg.TUPLE2, pg.SETITEM, pg.APPEND, pg.su("os"),
    pg.su("system"), pg.PROTO2, pg.PROTO4, b"\x80\x05", b"\x95" + struct.pack("<Q", 9),
    b"0", b"1", b"(", b"\x82\x01", pg.binint(7), b"X\x02\x00\x00\x00id", b"c", b"\n",
)  # fmt: skip


RENAMES = (b"archive/data.pkx", b"archive/Data.pkl", b"archive//data.pkl", b"archive/data.pkl\0",
           b"archive\\data.pkl", b"other/data.pkl")  # fmt: skip


@dataclass(frozen=True)
class Mutant:
    data: bytes
    seed_name: str
    how: str  # the mutations applied, for the failure message


def _zip_entry(name: bytes, body: bytes, method: int, offset: int) -> tuple[bytes, bytes]:
    """(local header + data, central-directory entry) of one member."""
    packed = zlib.compress(body, 6)[2:-4] if method == 8 else body
    crc = zlib.crc32(body)
    fields = struct.pack("<HHHHHIII", 20, 0, method, 0, 0x21, crc, len(packed), len(body))
    local = b"PK\x03\x04" + fields + struct.pack("<HH", len(name), 0) + name + packed
    central = b"PK\x01\x02" + struct.pack("<H", 20) + fields
    central += struct.pack("<HHHHHII", len(name), 0, 0, 0, 0, 0, offset) + name
    return local, central


def build_zip(
    members: list[tuple[bytes, bytes, int]], central_order: list[int] | None = None
) -> bytes:
    """A zip of (name, body, method) members; `central_order` lists the members the central
    directory names, in order (indices may repeat: duplicated entries)."""
    out = io.BytesIO()
    centrals = []
    for name, body, method in members:
        local, central = _zip_entry(name, body, method, out.tell())
        out.write(local)
        centrals.append(central)
    start = out.tell()
    order = central_order if central_order is not None else list(range(len(members)))
    directory = b"".join(centrals[i] for i in order)
    out.write(directory)
    out.write(b"PK\x05\x06" + struct.pack("<HHHHIIH", 0, 0, len(order), len(order),
                                          len(directory), start, 0))  # fmt: skip
    return out.getvalue()


def torch_members(data_pkl: bytes, prefix: bytes = b"archive") -> list[tuple[bytes, bytes, int]]:
    return [
        (prefix + b"/data.pkl", data_pkl, 0),
        (prefix + b"/byteorder", b"little", 0),
        (prefix + b"/data/0", b"\0" * 16, 0),
        (prefix + b"/version", b"3\n", 0),
    ]


@lru_cache(maxsize=1)
def seeds() -> dict[str, bytes]:
    """Benign and malicious streams to start from (picklegen's, plus plain data pickles)."""
    out = {f"benign/{k}": v for k, v in pg.benign().items()}
    out.update({f"evil/{k}": c.data for k, c in pg.malicious().items()})
    nested = {"w": [1.5] * 8, "meta": {"name": "m", "ids": list(range(20))}, "t": (None, True)}
    for proto in (2, 4, 5):
        out[f"benign/nested-p{proto}"] = pickle.dumps(nested, protocol=proto)
    out["benign/torch-zip"] = build_zip(torch_members(pg.torch_state_dict_p2()))
    out["evil/torch-zip"] = build_zip(torch_members(pg.malicious()["posix-system"].data))
    out.update(_joblib_seeds())
    corpus = os.environ.get("CUSTOS_FUZZ_CORPUS")  # long runs: the real libraries' files too
    if corpus:
        out.update(_corpus_seeds(Path(corpus)))
    return out


def _corpus_seeds(out: Path) -> dict[str, bytes]:
    """Pickle-based files torch and scikit-learn write (tests/modelfile/benign_corpus.py),
    written into `out` once and read back from there on later runs."""
    from tests.modelfile import benign_corpus

    out.mkdir(parents=True, exist_ok=True)
    if not any(out.iterdir()):
        benign_corpus.in_child("torch", out / "torch")
        benign_corpus.write_sklearn(out, full=False)
    seeds: dict[str, bytes] = {}
    for path in sorted(out.rglob("*")):
        data = path.read_bytes() if path.is_file() and path.stat().st_size < 1 << 20 else b""
        if data[:1] == b"\x80" or (data[:4] == b"PK\x03\x04" and b"data.pkl" in data):
            seeds[f"corpus/{path.relative_to(out)}"] = data
    return seeds


def _joblib_seeds() -> dict[str, bytes]:
    """joblib files (raw array bytes after each wrapper), where joblib and numpy are installed;
    the evil one holds os.system in an object array (a nested pickle joblib reads)."""
    try:
        import joblib
        import numpy
    except ImportError:
        return {}
    out = {}
    for name, value in (
        ("benign/joblib", {"w": numpy.arange(12.0).reshape(3, 4), "b": numpy.ones(3, "i4")}),
        ("evil/joblib", {"w": numpy.arange(4.0), "o": numpy.array([1, os.system], object)}),
    ):
        buffer = io.BytesIO()
        joblib.dump(value, buffer)
        out[name] = buffer.getvalue()
    return out


@lru_cache(maxsize=1)
def payloads() -> tuple[bytes, ...]:
    """PAYLOADS and the bodies of picklegen's malicious streams (PROTO and STOP removed):
    memo games, getattr and import chains, nested pickles, codecs, partial, defaultdict."""
    bodies = []
    for case in pg.malicious().values():
        body = case.data[2:] if case.data[:1] == b"\x80" else case.data
        if body.endswith(pg.STOP) and body.count(pg.STOP) == 1:
            bodies.append(body[:-1])
    return PAYLOADS + tuple(bodies)


def _boundaries(data: bytes) -> list[int]:
    """Opcode offsets of the first pickle in `data` up to where it stops parsing (pickletools
    only parses; joblib's raw array bytes stop it), or every offset if none parse."""
    found: list[int] = []
    with contextlib.suppress(Exception), warnings.catch_warnings():  # keep what parsed
        warnings.simplefilter("ignore")  # genops decoding a mutated STRING's escapes
        found.extend(at for _op, _arg, at in pickletools.genops(data) if at is not None)
    return found or list(range(len(data)))


def _flip(rng: random.Random, data: bytes) -> tuple[bytes, str]:
    at = rng.randrange(len(data)) if data else 0
    return data[:at] + bytes([rng.randrange(256)]) + data[at + 1 :], f"flip@{at}"


def _insert_ops(rng: random.Random, data: bytes) -> tuple[bytes, str]:
    at = rng.choice(_boundaries(data) or [0])
    run = b"".join(rng.choice(OPCODE_RUNS) for _ in range(rng.randint(1, 4)))
    return data[:at] + run + data[at:], f"ops@{at}"


def _frame_edit(rng: random.Random, data: bytes) -> tuple[bytes, str]:
    frames = [i for i in range(len(data) - 8) if data[i] == 0x95]
    if not frames:  # add a frame round the body of a protocol 4 stream
        at = 2 if data[:1] == b"\x80" else 0
        length = len(data) - at + rng.randint(-6, 6)
        return data[:at] + b"\x95" + struct.pack("<Q", max(0, length)) + data[at:], "frame+"
    at = rng.choice(frames)
    old = struct.unpack_from("<Q", data, at + 1)[0]
    new = rng.choice([0, 1, old - 1, old + 1, old - rng.randint(2, 9), old * 2, 2**63, 2**64 - 1])
    new = min(max(new, 0), 2**64 - 1)
    return data[: at + 1] + struct.pack("<Q", new) + data[at + 9 :], f"frame@{at}={new}"


def _truncate(rng: random.Random, data: bytes) -> tuple[bytes, str]:
    at = rng.randrange(len(data) + 1)
    return data[:at], f"cut@{at}"


def _delete(rng: random.Random, data: bytes) -> tuple[bytes, str]:
    at = rng.randrange(len(data) + 1)
    size = rng.randint(1, 8)
    return data[:at] + data[at + size :], f"del@{at}+{size}"


def _splice(rng: random.Random, data: bytes) -> tuple[bytes, str]:
    payload = rng.choice(payloads())
    where = rng.randrange(4)
    if where == 0:  # a second pickle after STOP
        return data + pg.PROTO2 + payload + pg.STOP, "append-pickle"
    if where == 1:  # replace the final STOP: the payload's value is the result
        end = data.rfind(pg.STOP)
        if end > 0:
            return data[:end] + pg.POP + payload + pg.STOP, "before-stop"
    at = rng.choice(_boundaries(data) or [0])
    tail = pg.POP if where == 2 else b""  # balanced, or leaving one more value on the stack
    return _grow_frame(data, at, len(payload + tail)) + payload + tail + data[at:], f"splice@{at}"


def _grow_frame(data: bytes, at: int, size: int) -> bytes:
    """`data[:at]`, with the FRAME that holds offset `at` (if any) announcing `size` more
    bytes, so a payload spliced inside a frame is read as part of it."""
    head = bytearray(data[:at])
    with contextlib.suppress(Exception), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for op, arg, pos in pickletools.genops(data):
            if pos is None or pos >= at:
                break
            if op.name == "FRAME" and isinstance(arg, int) and pos + 9 <= at <= pos + 9 + arg:
                struct.pack_into("<Q", head, pos + 1, arg + size)
    return bytes(head)


PICKLE_MUTATIONS: tuple[Callable[[random.Random, bytes], tuple[bytes, str]], ...] = (
    _flip, _insert_ops, _frame_edit, _truncate, _delete, _splice, _splice,
)  # fmt: skip


def mutate_pickle(rng: random.Random, data: bytes) -> tuple[bytes, str]:
    steps = []
    for _ in range(rng.randint(1, 3)):
        data, how = rng.choice(PICKLE_MUTATIONS)(rng, data)
        steps.append(how)
    return data, ",".join(steps)


def zip_members(data: bytes) -> list[tuple[bytes, bytes, int]]:
    """(name, body, method) of a seed zip's members (zipfile only reads them)."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return [
            (info.filename.encode(), archive.read(info), info.compress_type)
            for info in archive.infolist()
        ]


def mutate_zip(
    rng: random.Random, members: list[tuple[bytes, bytes, int]], inner: bytes
) -> tuple[bytes, str]:
    """The zip of `members` with its first `*/data.pkl` replaced by `inner` (itself maybe
    mutated), rebuilt with one structural change."""
    members = list(members)
    at = next((i for i, m in enumerate(members) if m[0].endswith(b"/data.pkl")), 0)
    name, _body, method = members[at]
    members[at] = (name, inner, method)
    folder = name.rpartition(b"/")[0] or b"archive"
    count = len(members)
    kind = rng.randrange(8)
    order: list[int] | None = None
    how = "zip"
    if kind == 0:  # rename data.pkl
        new = rng.choice(RENAMES).replace(b"archive", folder)
        members[at] = (new, inner, method)
        how = f"rename:{new!r}"
    elif kind == 1:  # deflate, store, or an unsupported method number
        method = rng.choice([0, 8, 8, 12, 14, 99])
        members[at] = (name, inner, method)
        how = f"method:{method}"
    elif kind == 2:  # a second data.pkl, benign or evil, duplicated in the directory
        other = rng.choice([pg.torch_state_dict_p2(), pg.PROTO2 + rng.choice(PAYLOADS) + pg.STOP])
        members.append((name, other, 0))
        rest = [i for i in range(count) if i != at]
        order = rng.choice([[at, *rest, count], [count, *rest, at], [at, *rest, count, at]])
        how = f"duplicate:{order}"
    elif kind == 3:  # another folder first: torch reads that folder's data.pkl
        evil = pg.PROTO2 + rng.choice(PAYLOADS) + pg.STOP
        members = [(b"zz/data.pkl", evil, 0), *members, (b"zz/version", b"3\n", 0)]
        how = "other-folder-first"
    elif kind == 4:  # directory lists data.pkl twice
        order = [at, *range(count)]
        how = "central-twice"
    data = build_zip(members, order)
    if kind >= 5:  # a raw byte change in the structures
        data, raw = _flip(rng, data)
        how = f"zip-{raw}"
    return data, how


def mutant(seed: int, index: int) -> Mutant:
    rng = random.Random(seed * 1_000_003 + index)
    names = sorted(seeds())
    name = rng.choice(names)
    data = seeds()[name]
    if data[:2] == b"PK" or rng.random() < 0.15:  # zip structures, around a pickle seed
        members = zip_members(data) if data[:2] == b"PK" else torch_members(data)
        inner = next((m[1] for m in members if m[0].endswith(b"/data.pkl")), data)
        steps = ""
        if rng.random() < 0.5:
            inner, steps = mutate_pickle(rng, inner)
        mutated, how = mutate_zip(rng, members, inner)
        return Mutant(mutated, name, f"{how},{steps}" if steps else how)
    mutated, how = mutate_pickle(rng, data)
    return Mutant(mutated, name, how)
