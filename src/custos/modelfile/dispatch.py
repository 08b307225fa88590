"""Entry points of the model-file scanner: files, directories and nested streams.

`scan_stream` is the dispatcher every container calls for its members (through
`ScanContext.dispatch`): it recognises the content (detect), runs the scanner for each view of
it (a polyglot is scanned as everything it is) and turns any exception inside a scanner into a
`<format>/malformed` finding plus error text, so a crash is never a clean report.
"""

from __future__ import annotations

import importlib
import io
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from custos.findings import Severity
from custos.modelfile import magic
from custos.modelfile.context import Limits, ScanContext
from custos.modelfile.detect import detect, unpickled_member
from custos.modelfile.formats import joblib_scan
from custos.modelfile.formats.template_rules import template_name
from custos.modelfile.pickle.bridge import scan_pickle
from custos.modelfile.readers.streamview import seekable
from custos.modelfile.report import FileReport
from custos.modelfile.rules import RULES, rule

SMALL_FILE = 1 << 20  # bytes: read whole (see _in_memory)
UNKNOWN = rule(
    "format/unknown",
    Severity.low,
    "A file whose format Custos does not recognise; it was not analysed.",
)
EMPTY = rule("format/empty", Severity.low, "An empty file where a model was expected.")
POLYGLOT = rule(
    "format/polyglot",
    Severity.high,
    "The same bytes are valid as two formats; different loaders see different content.",
)
UNREADABLE = rule("format/unreadable", Severity.high, "A file could not be read.")
TOO_MANY = rule(
    "format/too-many-streams",
    Severity.high,
    "A file holds more nested streams than the member limit; the rest were not inspected.",
)
TOO_LARGE = rule(
    "format/stream-too-large",
    Severity.high,
    "A nested stream is larger than the member limit; only its beginning was inspected.",
)
MLMODEL_NAME = "MLmodel"  # the file MLflow reads by name (mlmodel_scan judges it)
COMPRESSED = ("gzip", "zlib", "bz2", "xz", "lzma", "joblib-zfile", "lz4")  # compress_scan.FORMATS
FAMILY = {
    "pytorch-legacy": "torch", "hdf5": "keras", "tf-graphdef": "savedmodel",
    **{kind: "compress" for kind in COMPRESSED},
}  # fmt: skip
Scanner = Callable[[BinaryIO, str, ScanContext], "str | None"]


@dataclass
class FileContext(ScanContext):
    """A ScanContext that also keeps the text of errors raised inside scanners."""

    errors: list[str] = field(default_factory=list)
    streams: int = 0  # nested streams dispatched so far (a budget against amplification)


def _pickle(stream: BinaryIO, location: str, ctx: ScanContext) -> str | None:
    mark = (len(ctx.findings), len(ctx.formats), len(getattr(ctx, "errors", ())))
    if not scan_pickle(stream, location, ctx):
        return None
    # joblib writes raw array bytes after each wrapper's BUILD, where a plain reading sees
    # opcodes: the stream is read the way joblib reads it, and of the plain reading only what
    # pickle.load reaches in those bytes is kept (joblib_scan.plain_reading).
    found = joblib_scan.layout(stream)
    if not found.wrappers:
        return None
    plain = joblib_scan.plain_reading(ctx.findings[mark[0] :], found, location)
    del ctx.findings[mark[0] :], ctx.formats[mark[1] :]
    if isinstance(ctx, FileContext):
        del ctx.errors[mark[2] :]
    try:
        joblib_scan.scan(stream, location, ctx, found)
    finally:
        ctx.findings.extend(plain)
    return "joblib"


def _unknown(stream: BinaryIO, location: str, ctx: ScanContext) -> None:
    if ctx.depth == 0:
        ctx.emit(UNKNOWN.id, UNKNOWN.severity, "format not recognised; not analysed", location)
    if template_name(location) is not None:  # rendered by its name, NUL bytes or not: text_scan
        importlib.import_module("custos.modelfile.formats.text_scan").scan(stream, location, ctx)


def _empty(stream: BinaryIO, location: str, ctx: ScanContext) -> None:
    if ctx.depth == 0:
        ctx.emit(EMPTY.id, EMPTY.severity, "empty file", location)


def _compressed(kind: str) -> Scanner:
    def run(stream: BinaryIO, location: str, ctx: ScanContext) -> None:
        importlib.import_module("custos.modelfile.containers.compress_scan").scan(
            stream, location, ctx, kind
        )

    return run


def _foreign(kind: str) -> Scanner:
    def run(stream: BinaryIO, location: str, ctx: ScanContext) -> str | None:
        scan = importlib.import_module("custos.modelfile.formats.foreign_scan").scan
        refined: str | None = scan(stream, location, ctx, kind)
        return refined

    return run


def _graphdef(stream: BinaryIO, location: str, ctx: ScanContext) -> str | None:
    scan = importlib.import_module("custos.modelfile.formats.savedmodel_scan").scan
    refined: str | None = scan(stream, location, ctx, graphdef=True)  # keras-metadata
    return refined


# Format -> scanner, or "module:function" imported the first time that format is met: a scan
# of pickles does not pay for the GGUF, ONNX or Keras parsers.
SCANNERS: dict[str, Scanner | str] = {
    "pickle": _pickle,
    "pytorch-legacy": "formats.torch_scan:scan_legacy",
    "zip": "containers.zip_scan:scan",
    "tar": "containers.tar_scan:scan",
    "npy": "formats.numpy_scan:scan",
    "safetensors": "formats.safetensors_scan:scan",
    "gguf": "formats.gguf_scan:scan",
    "onnx": "formats.onnx_scan:scan",
    "savedmodel": "formats.savedmodel_scan:scan",
    "tf-graphdef": _graphdef,
    "hdf5": "formats.keras_scan:scan_h5",
    "text": "formats.text_scan:scan",
    "mlmodel": "formats.mlmodel_scan:scan",
    "empty": _empty,
    "unknown": _unknown,
    **{kind: _compressed(kind) for kind in COMPRESSED},
    **{kind: _foreign(kind) for kind in magic.FORMATS},  # images, executables, other archives
    "7z": "containers.sevenzip_scan:scan",
}
SCANNER_MODULES = (
    "containers.compress_scan", "containers.sevenzip_scan", "containers.tar_scan",
    "containers.zip_scan", "formats.foreign_scan", "formats.gguf_scan", "formats.hf_config",
    "formats.joblib_scan", "formats.keras_scan", "formats.mlmodel_scan", "formats.numpy_scan",
    "formats.onnx_scan", "formats.safetensors_scan", "formats.savedmodel_scan",
    "formats.text_scan", "formats.torch_scan", "model_dir", "pickle.scan",
)  # fmt: skip


def scanner(kind: str) -> Scanner:
    """The scanner for a format, imported on first use."""
    entry = SCANNERS[kind]
    if isinstance(entry, str):
        module, function = entry.split(":")
        entry = getattr(importlib.import_module(f"custos.modelfile.{module}"), function)
        SCANNERS[kind] = entry
    return entry


def load_all_rules() -> None:
    """Import every scanner, so that every rule is registered (for SARIF and the docs)."""
    for module in SCANNER_MODULES:
        importlib.import_module(f"custos.modelfile.{module}")


def _malformed_rule(kind: str) -> str:
    family = FAMILY.get(kind, kind)
    candidate = f"{family}/malformed"
    return candidate if candidate in RULES or family == "pickle" else "format/unreadable"


def _run(kind: str, stream: BinaryIO, location: str, ctx: ScanContext, index: int) -> None:
    try:
        stream.seek(0)
        refined = scanner(kind)(stream, location, ctx)
        if refined:
            ctx.formats[index] = refined
    except Exception as err:
        text = f"{kind} scanner failed: {type(err).__name__}: {err}"
        ctx.emit(_malformed_rule(kind), Severity.high, text, location)
        if isinstance(ctx, FileContext):
            ctx.errors.append(f"{location}: {text}")


def scan_stream(stream: BinaryIO, location: str, ctx: ScanContext) -> None:
    """Recognise `stream` by content and scan every view of it (the context's dispatcher)."""
    if isinstance(ctx, FileContext):
        ctx.streams += 1
        if ctx.streams > ctx.limits.max_members:
            if ctx.streams == ctx.limits.max_members + 1:
                message = f"more than {ctx.limits.max_members} nested streams; rest not inspected"
                ctx.emit(TOO_MANY.id, TOO_MANY.severity, message, location)
            return
    try:
        stream, cut = seekable(stream, ctx.limits.max_member_bytes)
        detected = detect(stream, member=ctx.depth > 0, unpickled=unpickled_member(location))
    except Exception as err:  # a tar member cut short, say: reported, never raised
        text = f"cannot read: {type(err).__name__}: {err}"
        ctx.emit(UNREADABLE.id, UNREADABLE.severity, text, location)
        if isinstance(ctx, FileContext):
            ctx.errors.append(f"{location}: {text}")
        return
    if cut:
        ctx.emit(TOO_LARGE.id, TOO_LARGE.severity, "stream cut at the member limit", location)
    index = len(ctx.formats)
    ctx.formats.append(detected.format)
    _run(detected.format, stream, location, ctx, index)
    for other in detected.also:
        ctx.emit(
            POLYGLOT.id,
            POLYGLOT.severity,
            f"{detected.format} that is also a valid {other}; both were scanned",
            location,
        )
        ctx.formats.append(other)
        _run(other, stream, location, ctx, len(ctx.formats) - 1)


def scan_file(path: Path, policy: object, limits: Limits | None = None) -> FileReport:
    """Scan one file; never raises for what is inside it."""
    return scan_file_context(path, policy, limits)[0]


def scan_file_context(
    path: Path, policy: object, limits: Limits | None = None
) -> tuple[FileReport, FileContext]:
    """Scan one file; the context also holds the paths the file makes its loader read."""
    ctx = FileContext(policy=policy, limits=limits or Limits(), dispatcher=scan_stream)
    try:
        with path.open("rb") as handle:
            stream = _in_memory(handle)
            scan_stream(stream, str(path), ctx)
            # MLflow reads the file named MLmodel whatever it holds: judged as one even when
            # its content was not recognised (YAML escapes can spell `flavors` unrecognisably).
            if path.name == MLMODEL_NAME and "mlmodel" not in ctx.formats:
                plain = ctx.formats[:1] in (["text"], ["unknown"], ["empty"])
                ctx.formats[0:1] = ["mlmodel"] if plain else [*ctx.formats[:1], "mlmodel"]
                _run("mlmodel", stream, str(path), ctx, ctx.formats.index("mlmodel"))
    except OSError as err:
        ctx.emit(UNREADABLE.id, UNREADABLE.severity, f"cannot read: {err}", str(path))
        ctx.errors.append(f"{path}: {err}")
    kind = ctx.formats[0] if ctx.formats else "unknown"
    report = FileReport(path, kind, tuple(ctx.findings), "; ".join(ctx.errors) or None)
    return report, ctx


def _in_memory(handle: BinaryIO) -> BinaryIO:
    """A small file as one in-memory buffer: a torch zip's members, read through views of the
    file, cost one system call per seek and read otherwise, which dominates a folder of small
    files. Larger files are streamed (memory stays bounded whatever the file)."""
    data = handle.read(SMALL_FILE + 1)
    if len(data) <= SMALL_FILE:
        return io.BytesIO(data)
    handle.seek(0)
    return handle
