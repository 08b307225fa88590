"""OpenTelemetry GenAI spans exported as JSON: OTLP/JSON (`resourceSpans` > `scopeSpans` >
`spans`, one export per line as the collector's file exporter writes it, or one document), or
flat span objects with an `attributes` map (the SDK console exporter). Each span that carries
`gen_ai.*` attributes becomes one request, written as a canonical JSON Lines row to a
temporary file that the JSON Lines reader then reads.

Mapping (OpenTelemetry semantic conventions for generative AI): the key is the attribute the
manifest maps `api_key` to, else `enduser.id`, `user.id` or `api_key`; the address
`client.address`; the endpoint `gen_ai.operation.name` and `gen_ai.request.model`; the status
`http.response.status_code`, else 500 for an error span and 200 otherwise; the input
`gen_ai.usage.input_tokens` (its prompt, when captured, only as a digest for repeated-query
counting) and the output `gen_ai.usage.output_tokens`."""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import IO, Any

from custos.accesslog.readers.sniff import open_binary
from custos.accesslog.report import Broken

KEY_ATTRIBUTES = ("enduser.id", "user.id", "api_key")
ADDRESS_ATTRIBUTES = ("client.address", "http.client_ip", "net.peer.ip", "net.sock.peer.addr")
AGENT_ATTRIBUTES = ("user_agent.original", "http.user_agent")
INPUT_TOKENS = ("gen_ai.usage.input_tokens", "gen_ai.usage.prompt_tokens")
OUTPUT_TOKENS = ("gen_ai.usage.output_tokens", "gen_ai.usage.completion_tokens")
PROMPTS = ("gen_ai.input.messages", "gen_ai.prompt", "gen_ai.prompt.0.content")
DOCUMENT_LIMIT = 512 * 1024 * 1024  # a pretty-printed export is read whole up to this size


def _value(v: Any) -> Any:
    """An OTLP AnyValue as a Python value."""
    if not isinstance(v, Mapping):
        return v
    for k in ("stringValue", "boolValue", "doubleValue"):
        if k in v:
            return v[k]
    if "intValue" in v:
        try:
            return int(v["intValue"])
        except (TypeError, ValueError):
            return None
    if "arrayValue" in v:
        return [_value(x) for x in v["arrayValue"].get("values", [])]
    if "kvlistValue" in v:
        return _attributes(v["kvlistValue"].get("values", []))
    return None


def _attributes(raw: Any) -> dict[str, Any]:
    if isinstance(raw, Mapping):
        return dict(raw)
    out: dict[str, Any] = {}
    if isinstance(raw, list):
        for item in raw:
            if isinstance(item, Mapping) and "key" in item:
                out[str(item["key"])] = _value(item.get("value"))
    return out


def spans(document: Any) -> Iterator[dict[str, Any]]:
    """Every span in one exported JSON value."""
    if isinstance(document, list):
        for item in document:
            yield from spans(item)
        return
    if not isinstance(document, Mapping):
        return
    if "resourceSpans" in document:
        for resource in document.get("resourceSpans") or []:
            for scope in (resource.get("scopeSpans") or resource.get("instrumentationLibrarySpans")
                          or []):  # fmt: skip
                for span in scope.get("spans") or []:
                    if isinstance(span, Mapping):
                        yield dict(span)
    elif "attributes" in document:
        yield dict(document)


def _seconds(span: Mapping[str, Any], nano: str, text: str) -> float | None:
    if nano in span:
        try:
            return int(span[nano]) / 1e9
        except (TypeError, ValueError):
            return None
    value = span.get(text)
    if isinstance(value, str):
        try:
            when = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
        return (when if when.tzinfo else when.replace(tzinfo=dt.UTC)).timestamp()
    return None


def _first(attrs: Mapping[str, Any], names: tuple[str, ...]) -> Any:
    for n in names:
        if attrs.get(n) not in (None, ""):
            return attrs[n]
    return None


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def row(span: Mapping[str, Any], key_attribute: str | None) -> dict[str, Any] | None:
    """The canonical row of one GenAI span; None for a span of something else."""
    attrs = _attributes(span.get("attributes"))
    if not any(k.startswith("gen_ai.") for k in attrs):
        return None
    start = _seconds(span, "startTimeUnixNano", "start_time")
    end = _seconds(span, "endTimeUnixNano", "end_time")
    status_field = span.get("status") or {}
    code = status_field.get("code", status_field.get("status_code")) if isinstance(
        status_field, Mapping) else None  # fmt: skip
    http = _number(_first(attrs, ("http.response.status_code", "http.status_code")))
    error = code in (2, "2", "STATUS_CODE_ERROR", "ERROR") or "error.type" in attrs
    key_names = (key_attribute, *KEY_ATTRIBUTES) if key_attribute else KEY_ATTRIBUTES
    operation = attrs.get("gen_ai.operation.name")
    model = attrs.get("gen_ai.request.model")
    latency = (end - start) * 1000 if start is not None and end is not None else None
    with contextlib.suppress(KeyError, TypeError, ValueError):  # floats lose the nanoseconds
        latency = (int(span["endTimeUnixNano"]) - int(span["startTimeUnixNano"])) / 1e6
    prompt = _first(attrs, PROMPTS)
    tokens_in = _number(_first(attrs, INPUT_TOKENS))
    tokens_out = _number(_first(attrs, OUTPUT_TOKENS))
    return {
        "ts": start,
        "api_key": _text(_first(attrs, key_names)),
        "client_ip": _text(_first(attrs, ADDRESS_ATTRIBUTES)),
        "endpoint": " ".join(str(p) for p in (operation, model) if p) or span.get("name"),
        "method": _text(operation),
        "status": int(http) if http is not None else (500 if error else 200),
        "latency_ms": latency,
        "user_agent": _text(_first(attrs, AGENT_ATTRIBUTES)),
        "input": {"input_tokens": tokens_in} if tokens_in is not None else None,
        "output": {"output_tokens": tokens_out} if tokens_out is not None else None,
        "input_digest": _digest(prompt) if prompt is not None else None,
    }


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def _digest(prompt: Any) -> str:
    text = prompt if isinstance(prompt, str) else json.dumps(prompt, sort_keys=True)
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def convert(path: Path, shown: str, out: IO[str], mapping: Mapping[str, str],
            limit: int) -> tuple[int, int, list[Broken]]:  # fmt: skip
    """Write the canonical rows of `path`'s GenAI spans to `out`; (rows, broken count, the
    first `limit` broken lines)."""
    key_attribute = mapping.get("api_key")
    rows = broken = 0
    first: list[Broken] = []

    def bad(line: int, reason: str) -> None:
        nonlocal broken
        broken += 1
        if len(first) < limit:
            first.append(Broken(shown, line, reason))

    def emit(document: Any, line: int) -> None:
        nonlocal rows
        for span in spans(document):
            record = row(span, key_attribute)
            if record is None:
                continue
            if record["ts"] is None:
                bad(line, "span without a readable start time")
                continue
            out.write(json.dumps(record) + "\n")
            rows += 1

    with open_binary(path) as f:
        number = 0
        for raw in f:
            number += 1
            text = raw.decode("utf-8", "replace").strip()
            if not text:
                continue
            try:
                document = json.loads(text)
            except (ValueError, RecursionError):  # nested past the limit: a broken line
                if number == 1 and text in ("{", "["):  # a pretty-printed export
                    return _whole(path, shown, out, mapping, limit)
                bad(number, "not JSON")
                continue
            emit(document, number)
    return rows, broken, first


def _whole(path: Path, shown: str, out: IO[str], mapping: Mapping[str, str],
           limit: int) -> tuple[int, int, list[Broken]]:  # fmt: skip
    """A pretty-printed export: successive JSON values in one text."""
    with open_binary(path) as f:
        text = f.read(DOCUMENT_LIMIT + 1).decode("utf-8", "replace")
    if len(text) > DOCUMENT_LIMIT:
        return 0, 1, [Broken(shown, 1, "a pretty-printed export larger than 512 MiB")]
    decoder = json.JSONDecoder()
    position, rows, key_attribute = 0, 0, mapping.get("api_key")
    while True:
        while position < len(text) and text[position].isspace():
            position += 1
        if position >= len(text):
            return rows, 0, []
        try:
            document, position = decoder.raw_decode(text, position)
        except ValueError:
            line = text.count("\n", 0, position) + 1
            return rows, 1, [Broken(shown, line, "not JSON from here on")][:limit]
        for span in spans(document):
            record = row(span, key_attribute)
            if record is not None and record["ts"] is not None:
                out.write(json.dumps(record) + "\n")
                rows += 1
