"""Formats are recognised by content; names are never trusted."""

from __future__ import annotations

import io
import pickle
import struct

import pytest

from custos.modelfile.detect import detect, pickle_verdict
from tests.modelfile.zips import BENIGN, EVIL, make_zip


def kind(data: bytes) -> str:
    return detect(io.BytesIO(data)).format


@pytest.mark.parametrize("protocol", range(6))
def test_pickles_of_every_protocol(protocol: int) -> None:
    assert kind(pickle.dumps({"a": [1, 2.5, "x", b"y"]}, protocol=protocol)) == "pickle"


def test_hand_written_protocol_0_and_1() -> None:
    assert kind(EVIL) == "pickle"
    assert kind(b"]q\x00(K\x01K\x02e.") == "pickle"
    assert kind(b"cos\nsystem\n(S'id'\ntR") == "pickle"  # no STOP: still runs os.system
    assert kind(b"cos\nsystem\nGARBAGE") == "pickle"  # import happens before the error


@pytest.mark.parametrize(
    "text",
    [
        b"# README\n\nA model.\n",
        b'{"architectures": ["LlamaForCausalLM"]}',
        b"---\nlicense: mit\n---\n",
        b"Note: the weights are in model.safetensors\n",
        b"MIT License\n\nCopyright (c) 2024\n",
        b"import os\nprint(os.getcwd())\n",
        b"[PAD]\n[UNK]\n[CLS]\n",
    ],
)
def test_text_is_not_a_pickle(text: bytes) -> None:
    assert kind(text) == "text"
    assert not pickle_verdict(text, len(text), strict=False)


def test_magic_formats() -> None:
    assert kind(b"\x93NUMPY\x01\x00" + b"\0" * 20) == "npy"
    assert kind(b"GGUF\x03\x00\x00\x00" + b"\0" * 16) == "gguf"
    assert kind(b"\x89HDF\r\n\x1a\n" + b"\0" * 16) == "hdf5"
    assert kind(b"\0" * 512 + b"\x89HDF\r\n\x1a\n" + b"\0" * 16) == "hdf5"
    assert kind(make_zip([("a", b"b")])) == "zip"
    assert kind(b"PK\x05\x06" + b"\0" * 18) == "zip"
    header = b'{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}'
    assert kind(struct.pack("<Q", len(header)) + header + b"\0" * 4) == "safetensors"
    assert kind(b"") == "empty"
    assert kind(bytes(range(256)) * 4) == "unknown"


def test_legacy_torch_magic() -> None:
    data = pickle.dumps(0x1950A86A20F9469CFC6C, protocol=2) + BENIGN
    assert kind(data) == "pytorch-legacy"


@pytest.mark.parametrize(
    "first",
    [
        b"I119547037146038801333356\n.",
        b"I0x1950A86A20F9469CFC6C\n.",
        b"I 0x19_50a8_6a20_f946_9cfc_6c\n.",
        b"L0o%oL\n." % 0x1950A86A20F9469CFC6C,
        b"I0b%s\n." % bin(0x1950A86A20F9469CFC6C)[2:].encode(),
        b"\x8a\x0b" + (0x1950A86A20F9469CFC6C).to_bytes(11, "little") + b".",
        b"\x80\x04\x8a\x0a" + (0x1950A86A20F9469CFC6C).to_bytes(10, "little") + b"\x940h\x00.",
        b"(I1\nK\x021\x8a\x0a" + (0x1950A86A20F9469CFC6C).to_bytes(10, "little") + b".",
    ],
)
def test_legacy_torch_magic_however_spelled(first: bytes) -> None:
    # the magic number's spellings the walk is skipped for none of (detect._pickle_kind)
    assert kind(first + BENIGN) == "pytorch-legacy"


def test_polyglots_are_reported() -> None:
    detected = detect(io.BytesIO(EVIL + make_zip([("a.pkl", BENIGN)])))
    assert detected.format == "pickle"
    assert detected.also == ("zip",)
