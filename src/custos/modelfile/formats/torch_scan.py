"""PyTorch containers: zip archives (and TorchScript ones), legacy stacked-pickle files and the
legacy tar layout, following what `torch.serialization` reads.

- zip: every member is dispatched by content (see zip_scan); here the archive is named and a
  TorchScript archive is reported, since `torch.load` hands it to the TorchScript loader.
- legacy stream: five pickles (magic, protocol, sys_info, the object, storage keys) then raw
  storage bytes; every pickle is analysed, the raw bytes are not taken for pickles.
- legacy tar: members `storages` and `tensors` interleave pickles with raw data whose length
  the pickles give; the pickles are analysed, the data skipped as torch skips it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import BinaryIO

from custos.findings import Severity
from custos.modelfile.context import ScanContext
from custos.modelfile.pickle.bridge import scan_ranges
from custos.modelfile.pickle.opwalk import Global, Machine, Source, WalkError
from custos.modelfile.policy import Policy
from custos.modelfile.readers.streamview import read_at, stream_size
from custos.modelfile.rules import rule

TORCHSCRIPT = rule(
    "torch/torchscript",
    Severity.medium,
    "A TorchScript archive: torch.load passes it to torch.jit.load, which runs its code/.",
)
LAYOUT = rule(
    "torch/legacy-layout",
    Severity.high,
    "A legacy PyTorch file whose pickles and raw data could not be followed to the end.",
)
MALFORMED = rule("torch/malformed", Severity.high, "A PyTorch container is malformed.")
MAGIC = 0x1950A86A20F9469CFC6C
LEGACY_PICKLES = 5
TAR_MEMBERS = frozenset({"storages", "tensors", "pickle"})
# torch.storage._get_dtype_from_pickle_storage_type names -> element size in bytes
ELEMENT_SIZE = {
    "DoubleStorage": 8, "FloatStorage": 4, "HalfStorage": 2, "LongStorage": 8,
    "IntStorage": 4, "ShortStorage": 2, "CharStorage": 1, "ByteStorage": 1,
    "BoolStorage": 1, "BFloat16Storage": 2, "ComplexDoubleStorage": 16,
    "ComplexFloatStorage": 8, "QUInt8Storage": 1, "QInt8Storage": 1, "QInt32Storage": 4,
    "QUInt4x2Storage": 1, "QUInt2x4Storage": 1,
}  # fmt: skip


def zip_kind(names: list[str], location: str, ctx: ScanContext) -> str | None:
    """`torchscript` or `pytorch-zip` from member names (reporting TorchScript), else None."""
    torchscript = any(
        n.endswith("constants.pkl") or n.startswith("code/") or "/code/" in n for n in names
    )
    if torchscript:
        ctx.emit(
            TORCHSCRIPT.id,
            TORCHSCRIPT.severity,
            "TorchScript archive (constants.pkl / code/): loading it runs its TorchScript code",
            location,
        )
        return "torchscript"
    layout = any(
        n == "data.pkl"
        or n.endswith("/data.pkl")
        or "/.data/" in n
        or n.endswith("/version")
        or n == "version"
        for n in names
    )
    return "pytorch-zip" if layout else None


@contextmanager
def member_policy(ctx: ScanContext, kind: str) -> Iterator[None]:
    """The policy for an archive's members. A TorchScript archive's pickles are read by torch's
    C++ unpickler, which resolves `__torch__.*` to classes compiled from the archive's own code/
    (reported as torch/torchscript), never to Python imports: those names are allowed there."""
    policy = ctx.policy
    if kind == "torchscript" and isinstance(policy, Policy):
        ctx.policy = replace(policy, allow_prefix=(*policy.allow_prefix, "__torch__"), _cache={})
    try:
        yield
    finally:
        ctx.policy = policy


def is_legacy_tar(names: set[str]) -> bool:
    return names >= TAR_MEMBERS


def scan_legacy(stream: BinaryIO, location: str, ctx: ScanContext) -> None:
    """A legacy stream: the five pickles torch reads, then raw storage bytes."""
    size = stream_size(stream)
    end = 0
    try:
        for _ in range(LEGACY_PICKLES):
            end = Machine(Source(stream, end, size)).run()
    except WalkError as err:
        ctx.emit(
            LAYOUT.id,
            LAYOUT.severity,
            f"legacy pickles could not be followed ({err}); all stacked pickles analysed",
            location,
        )
        end = size
    scan_ranges(stream, [(0, end)], location, ctx)


def scan_tar_member(name: str, stream: BinaryIO, location: str, ctx: ScanContext) -> bool:
    """Scan `storages` / `tensors` of the legacy tar layout; False for other members."""
    if name not in ("storages", "tensors"):
        return False
    size = stream_size(stream)
    ranges: list[tuple[int, int]] = []
    try:
        _walk_member(name, stream, size, ranges)
    except (WalkError, _Layout) as err:
        ctx.emit(
            LAYOUT.id,
            LAYOUT.severity,
            f"{name}: {err}; the rest was analysed as stacked pickles",
            location,
        )
        start = sum(length for _, length in ranges[-1:]) + (ranges[-1][0] if ranges else 0)
        ranges.append((start, size - start))
    scan_ranges(stream, ranges, location, ctx)
    return True


class _Layout(Exception):
    pass


def _pickle(stream: BinaryIO, at: int, size: int, ranges: list[tuple[int, int]]) -> Machine:
    machine = Machine(Source(stream, at, size))
    end = machine.run()
    ranges.append((at, end - at))
    return machine


def _walk_member(name: str, stream: BinaryIO, size: int, ranges: list[tuple[int, int]]) -> None:
    count = _pickle(stream, 0, size, ranges).result
    if not isinstance(count, int) or isinstance(count, bool) or count < 0:
        raise _Layout(f"the record count is {count!r}, not a count")
    at = sum(ranges[-1])
    for _ in range(count):
        if at >= size:
            raise _Layout(f"{count} records declared, data ends first")
        args = _pickle(stream, at, size, ranges).result
        at = sum(ranges[-1])
        if not isinstance(args, tuple) or len(args) != 3:
            raise _Layout(f"record header {args!r} is not a 3-tuple")
        at += _raw_length(name, args, stream, at)
        if at > size:
            raise _Layout("raw data runs past the end of the member")
    if name == "storages":
        _pickle(stream, at, size, ranges)  # the storage views list
        at = sum(ranges[-1])
    if at < size:
        ranges.append((at, size - at))  # trailing bytes: shown to the analyser too


def _raw_length(name: str, args: tuple[object, ...], stream: BinaryIO, at: int) -> int:
    if name == "storages":
        kind = args[2]
        element = ELEMENT_SIZE.get(kind.name) if isinstance(kind, Global) else None
        if element is None:
            raise _Layout(f"storage type {kind!r} has no known element size")
        count = int.from_bytes(read_at(stream, at, 8), "little", signed=True)
        if count < 0:
            raise _Layout("negative storage size")
        return 8 + count * element
    ndim = int.from_bytes(read_at(stream, at, 4), "little", signed=True)
    if not 0 <= ndim <= 1024:
        raise _Layout(f"tensor with {ndim} dimensions")
    return 8 + 16 * ndim + 8
