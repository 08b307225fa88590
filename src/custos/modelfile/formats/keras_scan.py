"""Keras models: `.keras` zips (config.json), HDF5 `.h5` files (the `model_config` and
`training_config` attributes), `keras_metadata.pb` files and Keras configs embedded in
TensorFlow SavedModels, all without Keras, h5py or TensorFlow.

A config is JSON; it is judged by keras_config. `keras_metadata.pb` is a protobuf list of
(node, JSON metadata) pairs and is read field by field. For HDF5 and other protobuf files the
JSON is found by searching the bytes (bounded chunks) for `"class_name"` (and for JSON escapes
inside keys, so that a key spelled `"class\\u005fname"` is not missed) and decoding the
enclosing object: HDF5 keeps attribute strings contiguous, protobuf keeps string fields
contiguous. Raw markers of Lambda layers are reported even when no config could be decoded
around them.
"""

from __future__ import annotations

import json
import re
from typing import BinaryIO

from custos.findings import Severity
from custos.modelfile.context import ScanContext
from custos.modelfile.formats.enclosing_json import Around
from custos.modelfile.formats.keras_config import LAMBDA, ConfigCheck
from custos.modelfile.formats.protowire import LEN, VARINT, Field, ProtoError, Reader
from custos.modelfile.readers.streamview import read_at, stream_size, window
from custos.modelfile.readers.zip_decode import METHODS, decode
from custos.modelfile.readers.zip_parse import CentralEntry
from custos.modelfile.rules import rule

UNPARSED = rule(
    "keras/h5-unparsed",
    Severity.medium,
    "An HDF5 file names a model_config that Custos could not decode; not checked.",
)
UNVERIFIED = rule(
    "hdf5/unverified",
    Severity.low,
    "An HDF5 file without a Keras model config; its contents were not analysed.",
)
MALFORMED = rule(
    "keras/malformed", Severity.high, "A Keras config is not valid JSON, or not a JSON object."
)
CONFIG_MEMBERS = ("config.json",)
CHUNK = 8 << 20
KEY = b'"class_name"'
ESCAPE = b"\\u00"  # a JSON escape of an ASCII character: `"class\\u005fname"` is class_name
ESCAPED_KEY = re.compile(rb'(?:\\u00[0-9a-fA-F]{2}|\w)*"\s*:')
METADATA_PREFIX = "_tf_keras"  # SavedObject.identifier of every keras_metadata.pb node
LAMBDA_MARKERS = (b'"class_name": "Lambda"', b'"class_name":"Lambda"', b'"__lambda__"')
MAX_CONFIG = 32 << 20
MAX_BACKTRACK = 1 << 20


def is_keras_zip(names: list[str]) -> bool:
    top = set(names)
    return "config.json" in top and ("model.weights.h5" in top or "metadata.json" in top)


def scan_zip_config(
    stream: BinaryIO, data_offset: int, entry: CentralEntry, location: str, ctx: ScanContext
) -> None:
    """Judge a `.keras` archive's config.json, decoded as the zip container decodes members
    (a method it cannot decode, or a decoder that fails, is reported there, not judged here)."""
    codec = METHODS.get(entry.method)
    if codec is None:
        return
    raw = window(stream, data_offset, entry.csize)
    decoded = decode(raw, entry.csize, codec, ctx.limits, ctx.limits.max_header_bytes)
    try:
        if decoded.unreadable:
            return
        data = decoded.stream.read(ctx.limits.max_header_bytes)
    finally:
        decoded.stream.close()
    checker = ConfigCheck(location, ctx)
    _check_json(data, "config.json", checker)
    checker.finish()


def _check_json(data: bytes, what: str, checker: ConfigCheck) -> None:
    """Decode one JSON config and judge it; a config that is not a JSON object is malformed
    (Keras cannot load it, and nothing in it would have been checked)."""
    ctx, location = checker.ctx, checker.location
    try:
        config = json.loads(data)  # bytes, as Keras reads it: UTF-8, -16 or -32
    except (UnicodeDecodeError, ValueError, RecursionError) as err:
        text = "nested too deeply" if isinstance(err, RecursionError) else str(err)[:200]
        ctx.emit(MALFORMED.id, MALFORMED.severity, f"{what}: {text}", location)
        return
    if not isinstance(config, dict):
        kind = "null" if config is None else type(config).__name__
        ctx.emit(
            MALFORMED.id, MALFORMED.severity, f"{what} holds a {kind}, not an object", location
        )
    checker.check(config)


def scan_h5(stream: BinaryIO, location: str, ctx: ScanContext) -> None:
    configs, named = scan_embedded(stream, location, ctx)
    if configs:
        return
    if named:
        ctx.emit(
            UNPARSED.id,
            UNPARSED.severity,
            "a model_config attribute is named but no JSON config was found",
            location,
        )
    elif ctx.depth == 0:
        ctx.emit(UNVERIFIED.id, UNVERIFIED.severity, "no Keras model config found", location)


def scan_embedded(stream: BinaryIO, location: str, ctx: ScanContext) -> tuple[int, bool]:
    """Judge every Keras JSON config found in the bytes; (configs decoded, model_config seen)."""
    size = stream_size(stream)
    covered_until = 0
    configs, named, markers = 0, False, False
    lambdas_before = _count(ctx, LAMBDA.id)
    checker = ConfigCheck(location, ctx)
    at = 0
    while at < size:
        chunk = read_at(stream, at, CHUNK + 64)
        named = named or b"model_config" in chunk
        markers = markers or any(m in chunk for m in LAMBDA_MARKERS)
        around: Around | None = None  # the text around this chunk, read once if a key is in it
        for found in _keys(chunk):
            pos = at + found
            if pos < covered_until:
                continue
            if around is None:
                start = max(0, at - MAX_BACKTRACK)
                around = Around(stream, start, min(size, at + CHUNK + MAX_CONFIG), MAX_BACKTRACK)
            decoded = around.enclosing(pos, "class_name")
            if decoded is not None:
                config, end = decoded
                checker.check(config)
                configs += 1
                covered_until = end
        at += CHUNK
    checker.finish()
    if markers and _count(ctx, LAMBDA.id) == lambdas_before:
        ctx.emit(
            LAMBDA.id,
            LAMBDA.severity,
            "a Lambda layer marker is present (config could not be decoded around it)",
            location,
        )
    return configs, named


def _keys(chunk: bytes) -> list[int]:
    """Offsets (below CHUNK) of `"class_name"` keys and of JSON escapes inside an object key
    (`"class\\u005fname":`), in order. Escapes in values are left alone: only keys can hide."""
    hits: list[int] = []
    found = chunk.find(KEY)
    while 0 <= found < CHUNK:
        hits.append(found)
        found = chunk.find(KEY, found + 1)
    found = chunk.find(ESCAPE)
    while 0 <= found < CHUNK:
        if ESCAPED_KEY.match(chunk, found):
            hits.append(found)
        found = chunk.find(ESCAPE, found + 1)
    return sorted(hits)


def _count(ctx: ScanContext, rule_id: str) -> int:
    return sum(1 for f in ctx.findings if f.rule == rule_id)


def saved_metadata_nodes(stream: BinaryIO) -> list[Field] | None:
    """The nodes of a `keras_metadata.pb` (SavedMetadata: repeated SavedObject nodes = 1, each
    node_id = 2 varint, node_path = 3, identifier = 4, metadata = 5 JSON, version = 6), or None
    when the bytes are not one. A GraphDef has the same top-level field, but its nodes carry an
    op (field 2 as a string); a file where any node has one is left to the GraphDef reader."""
    reader = Reader(stream, stream_size(stream))
    nodes: list[Field] = []
    keras = False
    try:
        for field in reader.fields(0, reader.size):
            if field.number != 1 or field.wire != LEN:
                return None
            for sub in reader.fields(field.offset, field.offset + field.value):
                if sub.number == 2 and sub.wire != VARINT:
                    return None
                if sub.number == 4 and sub.wire == LEN:
                    keras = keras or reader.text(sub, 64).startswith(METADATA_PREFIX)
            nodes.append(field)
    except ProtoError:
        return None
    return nodes if keras else None


def scan_saved_metadata(
    stream: BinaryIO, nodes: list[Field], location: str, ctx: ScanContext
) -> None:
    """Judge the JSON metadata of every node of a keras_metadata.pb (one check for the file)."""
    reader = Reader(stream, stream_size(stream))
    checker = ConfigCheck(location, ctx)
    for node in nodes:
        path, metadata = "", None
        for sub in reader.fields(node.offset, node.offset + node.value):
            if sub.number == 3 and sub.wire == LEN:
                path = reader.text(sub, 256)
            elif sub.number == 5 and sub.wire == LEN:
                metadata = sub
        if metadata is None or metadata.value == 0:
            continue
        if metadata.value > ctx.limits.max_header_bytes:
            text = f"metadata of node {path!r:.80} is larger than the limit; not checked"
            ctx.emit(MALFORMED.id, MALFORMED.severity, text, location)
            continue
        data = reader.pread(metadata.offset, metadata.value)
        _check_json(data, f"metadata of node {path!r:.80}", checker)
    checker.finish()
