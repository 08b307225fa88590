"""TensorFlow SavedModel (`saved_model.pb`) and frozen GraphDef (`.pb`) files.

The protobuf is walked with protowire: SavedModel.meta_graphs -> MetaGraphDef.graph_def ->
GraphDef.node[].op and GraphDef.library.function[].node_def[].op (every function, called or
not), plus the op list in meta_info_def. Ops are judged against the documented lists below.
Keras metadata embedded in the object graph is checked by keras_scan, and so is a
`keras_metadata.pb` (SavedMetadata: the same top-level field as a GraphDef, but no node has an
op), which is read as Keras metadata and reported as the format `keras-metadata`.

- critical: ops that run Python (`PyFunc`, `PyFuncStateless`, `EagerPyFunc`).
- high: ops that read, write or list files, or talk to the network, when a graph runs.
- high when configured to: `PrintV2` writing to a `file://` stream, `DecodeProtoV2` /
  `EncodeProto` loading descriptors from a file, `Debug*` ops with debug URLs.
- low: checkpoint save/restore ops; every SavedModel has them in its saver graph.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import BinaryIO

from custos.findings import Severity
from custos.modelfile.context import ScanContext
from custos.modelfile.formats import keras_scan
from custos.modelfile.formats.protowire import LEN, Field, ProtoError, Reader
from custos.modelfile.readers.streamview import stream_size
from custos.modelfile.rules import rule

DANGEROUS = rule(
    "savedmodel/dangerous-op",
    Severity.high,
    "A graph op that reads, writes or lists files, maps memory from a path, or uses the "
    "network when the graph runs (critical for the PyFunc family, which runs Python).",
)
CHECKPOINT = rule(
    "savedmodel/checkpoint-op",
    Severity.low,
    "Checkpoint save/restore ops (present in every SavedModel's saver graph).",
)
MALFORMED = rule(
    "savedmodel/malformed", Severity.high, "A SavedModel or GraphDef protobuf is malformed."
)
PYTHON_OPS = frozenset({"PyFunc", "PyFuncStateless", "EagerPyFunc"})
FILE_OPS = frozenset(
    {
        "ReadFile", "WriteFile", "MatchingFiles", "ImmutableConst", "TextLineReader",
        "TextLineReaderV2", "TFRecordReader", "TFRecordReaderV2", "FixedLengthRecordReader",
        "FixedLengthRecordReaderV2", "WholeFileReader", "WholeFileReaderV2", "LMDBReader",
        "TextLineDataset", "TFRecordDataset", "TFRecordDatasetV2", "FixedLengthRecordDataset",
        "FixedLengthRecordDatasetV2", "CSVDataset", "CSVDatasetV2", "ExperimentalCSVDataset",
        "LMDBDataset", "ExperimentalLMDBDataset", "SqlDataset", "ExperimentalSqlDataset",
        "SaveDataset", "SaveDatasetV2", "LoadDataset", "SnapshotDataset", "SnapshotDatasetV2",
        "DatasetToTFRecord", "ExperimentalDatasetToTFRecord", "InitializeTableFromTextFile",
        "InitializeTableFromTextFileV2", "CreateSummaryFileWriter", "CreateSummaryDbWriter",
        "LoadAndRemapMatrix", "GenerateVocabRemapping", "WriteAudioSummary", "RpcCall",
        "RpcClient", "RpcServer", "RpcServerStart", "RpcServerRegister", "RpcCheckStatus",
        "DataServiceDataset", "DataServiceDatasetV2", "DataServiceDatasetV3",
        "DataServiceDatasetV4", "DebugIdentity", "DebugIdentityV2",
        "DebugIdentityV3", "DebugNanCount", "DebugNumericSummary", "DebugNumericSummaryV2",
    }
)  # fmt: skip
CHECKPOINT_OPS = frozenset(
    {"Save", "SaveV2", "SaveSlices", "Restore", "RestoreV2", "RestoreSlice",
     "MergeV2Checkpoints", "ShardedFilename", "ShardedFilespec"}
)  # fmt: skip
# op -> (attribute, predicate on its string value meaning "touches a file")
CONFIGURED: dict[str, tuple[str, Callable[[str], bool]]] = {
    "PrintV2": ("output_stream", lambda v: v.startswith("file://")),
    "DecodeProtoV2": ("descriptor_source", lambda v: v not in ("", "local://")),
    "EncodeProto": ("descriptor_source", lambda v: v not in ("", "local://")),
}


class _Ops:
    def __init__(self, reader: Reader) -> None:
        self.r = reader
        self.found: Counter[tuple[str, str]] = Counter()  # (op, detail) -> count

    def saved_model(self) -> None:
        for f in self._len(0, self.r.size, 2):
            self.meta_graph(f)

    def meta_graph(self, f: Field) -> None:
        for g in self.r.fields(f.offset, f.offset + f.value):
            if g.wire != LEN:
                continue
            if g.number == 2:
                self.graph(g)
            elif g.number == 1:  # MetaInfoDef.stripped_op_list (2) -> OpDef (1) -> name (1)
                for ops in self._len(g.offset, g.offset + g.value, 2):
                    for op in self._len(ops.offset, ops.offset + ops.value, 1):
                        for name in self._len(op.offset, op.offset + op.value, 1):
                            self.note(self.r.text(name, 256), "")

    def graph(self, f: Field) -> None:
        for g in self.r.fields(f.offset, f.offset + f.value):
            if g.wire != LEN:
                continue
            if g.number == 1:
                self.node(g)
            elif g.number == 2:  # FunctionDefLibrary.function (1) -> FunctionDef.node_def (3)
                for fn in self._len(g.offset, g.offset + g.value, 1):
                    for node in self._len(fn.offset, fn.offset + fn.value, 3):
                        self.node(node)

    def node(self, f: Field) -> None:
        op, attrs = "", dict[str, str]()
        for g in self.r.fields(f.offset, f.offset + f.value):
            if g.wire == LEN and g.number == 2:
                op = self.r.text(g, 256)
            elif g.wire == LEN and g.number == 5:
                key, value = self.attr(g)
                attrs[key] = value
        detail = ""
        if op in CONFIGURED:
            name, touches = CONFIGURED[op]
            if touches(attrs.get(name, "")):
                detail = f"{name}={attrs[name]!r:.120}"
            else:
                return
        elif op == "ImmutableConst":
            detail = f"memory_region_name={attrs.get('memory_region_name', '')!r:.120}"
        self.note(op, detail)

    def attr(self, f: Field) -> tuple[str, str]:
        key, value = "", ""
        for g in self.r.fields(f.offset, f.offset + f.value):
            if g.wire == LEN and g.number == 1:
                key = self.r.text(g, 256)
            elif g.wire == LEN and g.number == 2:  # AttrValue.s (2)
                for s in self._len(g.offset, g.offset + g.value, 2):
                    value = self.r.text(s, 4096)
        return key, value

    def note(self, op: str, detail: str) -> None:
        if op in PYTHON_OPS or op in FILE_OPS or op in CHECKPOINT_OPS or detail:
            self.found[(op, detail)] += 1

    def _len(self, start: int, end: int, number: int) -> list[Field]:
        return [f for f in self.r.fields(start, end) if f.number == number and f.wire == LEN]


def scan(
    stream: BinaryIO, location: str, ctx: ScanContext, *, graphdef: bool = False
) -> str | None:
    if graphdef:
        nodes = keras_scan.saved_metadata_nodes(stream)
        if nodes is not None:
            keras_scan.scan_saved_metadata(stream, nodes, location, ctx)
            return "keras-metadata"
    reader = Reader(stream, stream_size(stream))
    ops = _Ops(reader)
    try:
        if graphdef:
            ops.graph(Field(0, LEN, reader.size, 0))
        else:
            ops.saved_model()
    except (ProtoError, RecursionError) as err:
        ctx.emit(MALFORMED.id, MALFORMED.severity, str(err), location)
    for (op, detail), count in sorted(ops.found.items()):
        what = f"op {op}" + (f" ({detail})" if detail else "") + f" x{count}"
        if op in PYTHON_OPS:
            ctx.emit(DANGEROUS.id, Severity.critical, what + ": runs Python", location)
        elif op in CHECKPOINT_OPS:
            ctx.emit(CHECKPOINT.id, CHECKPOINT.severity, what, location)
        else:
            ctx.emit(DANGEROUS.id, DANGEROUS.severity, what, location)
    keras_scan.scan_embedded(stream, location, ctx)
    return None
