"""ONNX models, walked with the minimal protobuf reader (no onnx package at run time).

ModelProto -> graph, functions and training graphs -> nodes (op_type, domain) and every
TensorProto (initializers, sparse initializers, tensor attributes, nested subgraphs of If/Loop/
Scan). Reported: external-data `location`s that are absolute or leave the model directory (the
runtime would read that file), and operator domains that neither ONNX nor onnxruntime defines
(custom operators come from native libraries registered at load time).
"""

from __future__ import annotations

from typing import BinaryIO

from custos.findings import Severity
from custos.modelfile.context import ScanContext
from custos.modelfile.formats.protowire import LEN, Field, ProtoError, Reader
from custos.modelfile.paths import escapes
from custos.modelfile.readers.streamview import stream_size
from custos.modelfile.rules import rule

ESCAPE = rule(
    "onnx/external-data-escape",
    Severity.high,
    "A tensor's external data location is absolute or leaves the model directory.",
)
CUSTOM = rule(
    "onnx/custom-domain",
    Severity.medium,
    "An operator or opset from a domain neither ONNX nor onnxruntime defines (a custom operator "
    "library).",
)
MALFORMED = rule("onnx/malformed", Severity.high, "An ONNX protobuf is malformed or cut short.")
DEPTH = rule("onnx/too-deep", Severity.high, "Subgraphs nest deeper than the limit.")
STANDARD_DOMAINS = frozenset(
    {"", "ai.onnx", "ai.onnx.ml", "ai.onnx.training", "ai.onnx.preview.training"}
)
# Domains whose kernels are compiled into onnxruntime itself (onnxruntime/core/graph/constants.h,
# registered in Environment::Initialize): its graph optimiser and quantisation tools write them
# (com.microsoft FusedMatMul, Attention, QLinear*; nchwc and the internal NHWC layouts). Running
# them loads no library, so they are no custom operators. Left out on purpose: org.pytorch.aten
# (ATen fallback: the kernel calls back into PyTorch, training builds only), com.microsoft.dml
# (DirectML builds only) and execution providers' vendor domains: still findings.
ONNXRUNTIME_DOMAINS = frozenset(
    {"com.microsoft", "com.microsoft.nchwc", "com.microsoft.experimental", "com.ms.internal.nhwc"}
)
BUILTIN_DOMAINS = STANDARD_DOMAINS | ONNXRUNTIME_DOMAINS
MAX_GRAPH_DEPTH = 64


class _Walk:
    def __init__(self, reader: Reader, location: str, ctx: ScanContext) -> None:
        self.r, self.location, self.ctx = reader, location, ctx
        self.domains: set[str] = set()

    def _messages(self, start: int, end: int, numbers: set[int]) -> list[Field]:
        return [f for f in self.r.fields(start, end) if f.number in numbers and f.wire == LEN]

    def model(self) -> None:
        for f in self.r.fields(0, self.r.size):
            if f.wire != LEN:
                continue
            if f.number == 7:
                self.graph(f, 0)
            elif f.number == 8:
                self.opset(f)
            elif f.number == 20:  # TrainingInfoProto: initialization 1, algorithm 2
                for g in self._messages(f.offset, f.offset + f.value, {1, 2}):
                    self.graph(g, 0)
            elif f.number == 25:  # FunctionProto: node 7, opset_import 9
                for g in self.r.fields(f.offset, f.offset + f.value):
                    if g.number == 7 and g.wire == LEN:
                        self.node(g, 0)
                    elif g.number == 9 and g.wire == LEN:
                        self.opset(g)

    def opset(self, f: Field) -> None:
        for g in self.r.fields(f.offset, f.offset + f.value):
            if g.number == 1 and g.wire == LEN:
                self.domain(self.r.text(g), "opset import")

    def domain(self, name: str, what: str) -> None:
        if name not in BUILTIN_DOMAINS and name not in self.domains:
            self.domains.add(name)
            self.ctx.emit(
                CUSTOM.id, CUSTOM.severity, f"{what} from domain {name!r:.100}", self.location
            )

    def graph(self, f: Field, depth: int) -> None:
        if depth > MAX_GRAPH_DEPTH:
            self.ctx.emit(
                DEPTH.id, DEPTH.severity, f"subgraphs deeper than {MAX_GRAPH_DEPTH}", self.location
            )
            return
        for g in self.r.fields(f.offset, f.offset + f.value):
            if g.wire != LEN:
                continue
            if g.number == 1:
                self.node(g, depth)
            elif g.number == 5:
                self.tensor(g)
            elif g.number == 15:  # SparseTensorProto: values 1, indices 2
                for t in self._messages(g.offset, g.offset + g.value, {1, 2}):
                    self.tensor(t)

    def node(self, f: Field, depth: int) -> None:
        op, domain = "", ""
        for g in self.r.fields(f.offset, f.offset + f.value):
            if g.wire != LEN:
                continue
            if g.number == 4:
                op = self.r.text(g, 1024)
            elif g.number == 7:
                domain = self.r.text(g, 1024)
            elif g.number == 5:
                self.attribute(g, depth)
        self.domain(domain, f"operator {op!r:.100}")

    def attribute(self, f: Field, depth: int) -> None:
        for g in self.r.fields(f.offset, f.offset + f.value):
            if g.wire != LEN:
                continue
            if g.number in (6, 11):
                self.graph(g, depth + 1)
            elif g.number in (5, 10):
                self.tensor(g)
            elif g.number in (22, 23):
                for t in self._messages(g.offset, g.offset + g.value, {1, 2}):
                    self.tensor(t)

    def tensor(self, f: Field) -> None:
        name, location = "", None
        for g in self.r.fields(f.offset, f.offset + f.value):
            if g.number == 8 and g.wire == LEN:
                name = self.r.text(g, 1024)
            elif g.number == 13 and g.wire == LEN:
                key, value = "", ""
                for e in self.r.fields(g.offset, g.offset + g.value):
                    if e.wire == LEN and e.number in (1, 2):
                        text = self.r.text(e, 4096)
                        key, value = (text, value) if e.number == 1 else (key, text)
                if key == "location":
                    location = value
        if location is not None and escapes(location):
            self.ctx.emit(
                ESCAPE.id,
                ESCAPE.severity,
                f"tensor {name!r:.100} reads external data from {location!r:.200}",
                self.location,
            )


def scan(stream: BinaryIO, location: str, ctx: ScanContext) -> None:
    reader = Reader(stream, stream_size(stream))
    try:
        _Walk(reader, location, ctx).model()
    except (ProtoError, RecursionError) as err:
        ctx.emit(MALFORMED.id, MALFORMED.severity, str(err), location)
