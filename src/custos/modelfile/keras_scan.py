"""Keras models: `.keras` zips (config.json), HDF5 `.h5` files (the `model_config` attribute)
and Keras configs embedded in TensorFlow SavedModels, all without Keras, h5py or TensorFlow.

A config is JSON; it is judged by keras_config. For HDF5 and protobuf files the JSON is found
by searching the bytes (bounded chunks) for `"class_name"` and decoding the enclosing object:
HDF5 keeps attribute strings contiguous, protobuf keeps string fields contiguous. Raw markers of
Lambda layers are reported even when no config could be decoded around them.
"""

from __future__ import annotations

import json
from typing import BinaryIO

from custos.checks.model import Severity
from custos.modelfile.context import ScanContext
from custos.modelfile.inflate import decoder_for, inflate
from custos.modelfile.keras_config import LAMBDA, check_config
from custos.modelfile.rules import rule
from custos.modelfile.streamview import read_at, stream_size, window
from custos.modelfile.zip_parse import CentralEntry

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
MALFORMED = rule("keras/malformed", Severity.high, "A Keras config is not valid JSON.")
CONFIG_MEMBERS = ("config.json",)
CHUNK = 8 << 20
KEY = b'"class_name"'
LAMBDA_MARKERS = (b'"class_name": "Lambda"', b'"class_name":"Lambda"', b'"__lambda__"')
MAX_CONFIG = 32 << 20
MAX_BACKTRACK = 1 << 20


def is_keras_zip(names: list[str]) -> bool:
    top = set(names)
    return "config.json" in top and ("model.weights.h5" in top or "metadata.json" in top)


def scan_zip_config(
    stream: BinaryIO, data_offset: int, entry: CentralEntry, location: str, ctx: ScanContext
) -> None:
    """Judge a `.keras` archive's config.json (stored or deflated)."""
    raw = window(stream, data_offset, entry.csize)
    if entry.method == 8:
        result = inflate(raw, decoder_for("deflate"), ctx.limits, entry.csize)
        data = result.stream.read(ctx.limits.max_header_bytes)
        result.stream.close()
    else:
        data = raw.read(ctx.limits.max_header_bytes)
    try:
        config = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as err:
        ctx.emit(MALFORMED.id, MALFORMED.severity, f"config.json: {err}", location)
        return
    check_config(config, location, ctx)


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
    at = 0
    while at < size:
        chunk = read_at(stream, at, CHUNK + 64)
        named = named or b"model_config" in chunk
        markers = markers or any(m in chunk for m in LAMBDA_MARKERS)
        found = chunk.find(KEY)
        while 0 <= found < CHUNK:
            pos = at + found
            if pos >= covered_until:
                decoded = _decode_around(stream, pos, size)
                if decoded is not None:
                    config, end = decoded
                    check_config(config, location, ctx)
                    configs += 1
                    covered_until = end
            found = chunk.find(KEY, found + 1)
        at += CHUNK
    if markers and _count(ctx, LAMBDA.id) == lambdas_before:
        ctx.emit(
            LAMBDA.id,
            LAMBDA.severity,
            "a Lambda layer marker is present (config could not be decoded around it)",
            location,
        )
    return configs, named


def _count(ctx: ScanContext, rule_id: str) -> int:
    return sum(1 for f in ctx.findings if f.rule == rule_id)


def _decode_around(stream: BinaryIO, pos: int, size: int) -> tuple[object, int] | None:
    """The JSON object containing the `"class_name"` key at `pos`, and where it ends."""
    start = max(0, pos - MAX_BACKTRACK)
    text = read_at(stream, start, min(size, pos + MAX_CONFIG) - start).decode("latin-1")
    decoder = json.JSONDecoder()
    key_at = pos - start
    brace = text.rfind("{", 0, key_at)
    tries = 0
    while brace >= 0 and tries < 64:
        tries += 1
        try:
            value, end = decoder.raw_decode(text, brace)
        except (ValueError, RecursionError):
            value, end = None, -1
        if isinstance(value, dict) and "class_name" in value and end > key_at:
            return value, start + end
        brace = text.rfind("{", 0, brace)
    return None
