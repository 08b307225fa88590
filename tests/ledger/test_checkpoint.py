"""C2SP checkpoints and signed notes: interoperability, refusal of anything not ours or altered."""

from __future__ import annotations

import base64
import hashlib
import re

import pytest

from custos.ledger.checkpoint import (
    Checkpoint,
    CheckpointError,
    generate_log_key,
    key_id,
    open_note,
    parse_and_verify,
    parse_verifier_key,
    sign_checkpoint,
    sign_note,
    verifier_of,
)
from custos.ledger.merkle import leaf_hash
from tests.ledger.vectors import NOTE_SIGNATURE_LINE, NOTE_SIGNER, NOTE_TEXT, NOTE_VERIFIER

ORIGIN = "custos.example/ledger"
SIGNER, VERIFIER = generate_log_key(ORIGIN)
ROOT = leaf_hash(b"root")
CP = Checkpoint(ORIGIN, 42, ROOT)


def test_go_note_example_signs_and_verifies_byte_for_byte() -> None:
    assert verifier_of(NOTE_SIGNER) == NOTE_VERIFIER
    note = sign_note(NOTE_TEXT, NOTE_SIGNER)
    assert note == NOTE_TEXT + "\n" + NOTE_SIGNATURE_LINE
    assert open_note(note, NOTE_VERIFIER) == NOTE_TEXT


def test_generated_keys_use_the_go_note_format() -> None:
    assert re.fullmatch(
        rf"PRIVATE\+KEY\+{re.escape(ORIGIN)}\+[0-9a-f]{{8}}\+[A-Za-z0-9+/]{{44}}", SIGNER
    )
    name, kid, encoded = VERIFIER.split("+", 2)
    raw = base64.b64decode(encoded)
    assert (name, raw[0], len(raw)) == (ORIGIN, 1, 33)
    expected_id = hashlib.sha256(ORIGIN.encode() + b"\n\x01" + raw[1:]).digest()[:4]
    assert kid == expected_id.hex() == key_id(ORIGIN, raw[1:]).hex()
    assert verifier_of(SIGNER) == VERIFIER
    assert generate_log_key(ORIGIN) != (SIGNER, VERIFIER)


def test_signed_checkpoint_has_the_c2sp_layout() -> None:
    note = sign_checkpoint(CP, SIGNER)
    body = f"{ORIGIN}\n42\n{base64.b64encode(ROOT).decode()}\n"
    assert note.startswith(body + "\n\u2014 " + ORIGIN + " ")
    signature = base64.b64decode(note.rstrip("\n").rsplit(" ", 1)[1])
    assert len(signature) == 4 + 64
    assert signature[:4] == parse_verifier_key(VERIFIER).key_id


def test_round_trip_with_extensions() -> None:
    checkpoint = Checkpoint(ORIGIN, 0, ROOT, ("extra line one", "two"))
    assert parse_and_verify(sign_checkpoint(checkpoint, SIGNER), VERIFIER) == checkpoint
    assert parse_and_verify(sign_checkpoint(CP, SIGNER), VERIFIER, origin=ORIGIN) == CP


def test_a_note_signed_by_another_key_is_refused() -> None:
    other_signer, _ = generate_log_key(ORIGIN)  # same name, different key: ignored, not ours
    with pytest.raises(CheckpointError, match=f"no signature by key {ORIGIN}"):
        parse_and_verify(sign_checkpoint(CP, other_signer), VERIFIER)
    stranger, _ = generate_log_key("stranger.example/log")
    with pytest.raises(CheckpointError, match="no signature by key"):
        parse_and_verify(sign_checkpoint(CP, stranger), VERIFIER)


def test_cosignatures_by_other_keys_are_ignored() -> None:
    witness, _ = generate_log_key("witness.example")
    ours = sign_checkpoint(CP, SIGNER)
    theirs = sign_checkpoint(CP, witness)
    both = ours + theirs.split("\n\n", 1)[1]
    assert parse_and_verify(both, VERIFIER) == CP
    assert parse_and_verify(theirs.rstrip("\n") + "\n" + ours.split("\n\n", 1)[1], VERIFIER) == CP


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("\n42\n", "\n43\n"),
        (base64.b64encode(ROOT).decode(), base64.b64encode(leaf_hash(b"other")).decode()),
        (ORIGIN + "\n", "custos.example/other\n"),
    ],
)
def test_a_changed_size_root_or_origin_is_refused(old: str, new: str) -> None:
    note = sign_checkpoint(CP, SIGNER)
    tampered = note.replace(old, new, 1)
    assert tampered != note
    with pytest.raises(CheckpointError, match="does not match the note"):
        parse_and_verify(tampered, VERIFIER)


def test_a_flipped_signature_is_refused() -> None:
    note = sign_checkpoint(CP, SIGNER)
    body, line = note.split("\n\n")
    prefix, encoded = line.rstrip("\n").rsplit(" ", 1)
    raw = bytearray(base64.b64decode(encoded))
    raw[10] ^= 1
    bad = f"{body}\n\n{prefix} {base64.b64encode(bytes(raw)).decode()}\n"
    with pytest.raises(CheckpointError, match="signature line 1: signature by"):
        parse_and_verify(bad, VERIFIER)
    short = f"{body}\n\n{prefix} {base64.b64encode(bytes(raw[:20])).decode()}\n"
    with pytest.raises(CheckpointError, match="signature line 1: signature by"):
        parse_and_verify(short, VERIFIER)


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda n: n[:-3] + "!=\n", "signature line 1: not valid base64"),
        (lambda n: n[:-3] + "=\n", "signature line 1: not valid base64"),
        (lambda n: n.replace("\u2014 ", "-- "), "does not start with an em dash"),
        (lambda n: n.replace("\n\n", "\n"), "no blank line"),
        (lambda n: n.rstrip("\n"), "no blank line"),
        (lambda n: n + "\n", "does not start with an em dash"),
        (lambda n: n.replace("\n42\n", "\n4\t2\n"), "control characters"),
        (lambda n: n.replace("\u2014 " + ORIGIN + " ", "\u2014 " + ORIGIN + "  "), "not valid"),
        (lambda n: n.replace("\u2014 " + ORIGIN, "\u2014 a+b"), "malformed key name"),
        (lambda n: n + ("\u2014 x AAAAAAA=\n" * 101), "more than 100 signatures"),
    ],
)
def test_malformed_notes_are_refused(mutate: object, message: str) -> None:
    note = sign_checkpoint(CP, SIGNER)
    with pytest.raises(CheckpointError, match=message):
        parse_and_verify(mutate(note), VERIFIER)  # type: ignore[operator]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (f"{ORIGIN}\n042\n{base64.b64encode(ROOT).decode()}\n", "without leading zeros"),
        (f"{ORIGIN}\n-1\n{base64.b64encode(ROOT).decode()}\n", "without leading zeros"),
        (f"{ORIGIN}\n{2**64}\n{base64.b64encode(ROOT).decode()}\n", "without leading zeros"),
        (f"{ORIGIN}\n42\n{base64.b64encode(ROOT[:31]).decode()}\n", "root is 31 bytes"),
        (f"{ORIGIN}\n42\n{base64.b64encode(ROOT).decode()[:-1]}\n", "root: not valid base64"),
        (f"{ORIGIN}\n42\n", "needs origin, size and root"),
        (f"{ORIGIN}\n42\n{base64.b64encode(ROOT).decode()}\n\next\n", "none empty"),
    ],
)
def test_signed_but_malformed_checkpoint_bodies_are_refused(text: str, message: str) -> None:
    with pytest.raises(CheckpointError, match=message):
        parse_and_verify(sign_note(text, SIGNER), VERIFIER)


def test_non_canonical_base64_root_is_refused() -> None:
    # "AB==" and "AA==" both decode to b"\x00"; only the canonical spelling is accepted.
    root = base64.b64encode(ROOT).decode()
    assert root.endswith("=")
    loose = root[:-2] + chr(ord(root[-2]) + 1) + "="
    assert base64.b64decode(loose) == ROOT
    with pytest.raises(CheckpointError, match="not canonical base64"):
        parse_and_verify(sign_note(f"{ORIGIN}\n42\n{loose}\n", SIGNER), VERIFIER)


def test_expected_origin_is_enforced() -> None:
    with pytest.raises(CheckpointError, match="is not 'elsewhere'"):
        parse_and_verify(sign_checkpoint(CP, SIGNER), VERIFIER, origin="elsewhere")


def test_bad_keys_are_refused_without_echoing_the_secret() -> None:
    seed = SIGNER.rsplit("+", 1)[1]
    name, kid, key = VERIFIER.split("+", 2)
    cases = [
        (SIGNER.replace("PRIVATE+KEY+", "PRIVATE+"), "signer key must look like"),
        (SIGNER.replace(kid, "00000000"), "key id 00000000 does not match"),
        (SIGNER[:-4] + "!!!=", "not valid base64"),
    ]
    for signer, message in cases:
        with pytest.raises(CheckpointError, match=message) as info:
            sign_checkpoint(CP, signer)
        assert seed not in str(info.value)
    for verifier, message in [
        (f"{name}+{kid}", "must look like"),
        (f"{name}+00000000+{key}", "does not match the key"),
        (f"{name}+{kid}+" + base64.b64encode(b"\x02" + bytes(32)).decode(), "not an Ed25519"),
        (f"a b+{kid}+{key}", "without spaces"),
    ]:
        with pytest.raises(CheckpointError, match=message):
            parse_and_verify(sign_checkpoint(CP, SIGNER), verifier)


def test_checkpoint_values_are_validated() -> None:
    with pytest.raises(CheckpointError, match="one non-empty line"):
        Checkpoint("a\nb", 1, ROOT)
    with pytest.raises(CheckpointError, match="64-bit unsigned"):
        Checkpoint(ORIGIN, -1, ROOT)
    with pytest.raises(CheckpointError, match="root is 3 bytes"):
        Checkpoint(ORIGIN, 1, b"abc")
    with pytest.raises(CheckpointError, match="extension lines"):
        Checkpoint(ORIGIN, 1, ROOT, ("",))
    with pytest.raises(CheckpointError, match="end in one newline"):
        sign_note("no newline", SIGNER)
