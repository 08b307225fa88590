"""A tiny protobuf encoder for hand-built TensorFlow test files."""

from __future__ import annotations


def varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def num(number: int, value: int) -> bytes:
    return varint(number << 3) + varint(value)


def msg(number: int, payload: bytes | str) -> bytes:
    raw = payload.encode() if isinstance(payload, str) else payload
    return varint(number << 3 | 2) + varint(len(raw)) + raw


def node(name: str, op: str, **attrs: str) -> bytes:
    body = msg(1, name) + msg(2, op)
    for key, value in attrs.items():
        body += msg(5, msg(1, key) + msg(2, msg(2, value)))  # AttrValue.s
    return body


def graph(nodes: list[bytes], functions: list[tuple[str, list[bytes]]] = ()) -> bytes:  # type: ignore[assignment]
    body = b"".join(msg(1, n) for n in nodes)
    if functions:
        library = b"".join(
            msg(1, msg(1, msg(1, name)) + b"".join(msg(3, n) for n in fn_nodes))
            for name, fn_nodes in functions
        )
        body += msg(2, library)
    return body


def saved_model(graph_def: bytes, object_graph: bytes = b"") -> bytes:
    meta = msg(1, msg(4, "serve")) + msg(2, graph_def)
    if object_graph:
        meta += msg(7, object_graph)
    return num(1, 1) + msg(2, meta)
