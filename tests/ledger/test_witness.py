"""custos.ledger.witness: kept checkpoint files and the comparison of a history with them."""

from __future__ import annotations

import json

import pytest

from custos.errors import UserError
from custos.ledger import Checkpoint, generate_log_key, sign_checkpoint
from custos.ledger.merkle import leaf_hash, root_of
from custos.ledger.witness import Kept, compare, decode_file, encode_file

SIGNER, VERIFIER = generate_log_key("custos-ledger/witness")
OTHER, _ = generate_log_key("custos-ledger/witness")
HASHES = [leaf_hash(b"entry %d" % i) for i in range(12)]


def kept(size: int, source: str = "k.json") -> Kept:
    note = sign_checkpoint(
        Checkpoint("custos-ledger/witness", size, root_of(HASHES[:size])), SIGNER
    )
    return decode_file(encode_file(VERIFIER, note, HASHES[:size]), VERIFIER, source)


def test_an_identical_history_matches() -> None:
    found = compare([kept(5), kept(12)], HASHES)
    assert found.first_bad is None
    assert found.problems == ()
    assert found.proven == 12


def test_a_longer_history_than_kept_is_fine() -> None:
    assert compare([kept(5)], HASHES).first_bad is None


@pytest.mark.parametrize(
    ("history", "bad"),
    [
        pytest.param([*HASHES[:7], leaf_hash(b"forged"), *HASHES[8:]], 7, id="rewritten"),
        pytest.param(HASHES[:9], 9, id="truncated"),
        pytest.param([*HASHES[:3], HASHES[4], HASHES[3], *HASHES[5:]], 3, id="reordered"),
    ],
)
def test_the_first_bad_entry_is_named(history: list[bytes], bad: int) -> None:
    found = compare([kept(12, "ci-57.json")], history)
    assert found.first_bad == bad
    assert found.problems[0].startswith(f"entry {bad}:")
    assert "ci-57.json" in found.problems[0]


def test_the_smallest_kept_tree_holding_the_entry_is_named() -> None:
    history = [*HASHES[:7], leaf_hash(b"forged"), *HASHES[8:]]
    witnessed = kept(12)
    shared = witnessed.leaf_hashes
    records = [Kept(kept(n).checkpoint, f"w:{n}", shared) for n in (4, 8, 12)]
    found = compare(records, history)
    assert found.first_bad == 7
    assert "checkpoint 8's tree" in found.problems[0]
    assert "kept in w:8" in found.problems[0]


def test_a_bare_note_bounds_the_entry_by_the_proven_prefix() -> None:
    bare = Kept(kept(12).checkpoint, "note.txt")
    history = [*HASHES[:7], leaf_hash(b"forged"), *HASHES[8:]]
    assert compare([bare], history).first_bad == 0
    found = compare([bare, kept(5)], history)
    assert found.first_bad == 5
    assert "entries 5..11" in found.problems[0]


def test_files_that_do_not_verify_themselves_are_bad_input() -> None:
    good = json.loads(encode_file(VERIFIER, kept(5).checkpoint.body(), HASHES[:5]))
    note = sign_checkpoint(kept(5).checkpoint, SIGNER)
    with pytest.raises(UserError, match=r"x\.json: its leaf hashes do not reproduce"):
        decode_file(encode_file(VERIFIER, note, HASHES[1:6]), VERIFIER, "x.json")
    with pytest.raises(UserError, match=r"x\.json: holds 4 leaf hashes"):
        decode_file(encode_file(VERIFIER, note, HASHES[:4]), VERIFIER, "x.json")
    with pytest.raises(UserError, match="not a checkpoint signed by the trusted key"):
        decode_file(json.dumps(good).encode(), VERIFIER, "x.json")  # unsigned body
    forged = sign_checkpoint(kept(5).checkpoint, OTHER)
    with pytest.raises(UserError, match="not a checkpoint signed by the trusted key"):
        decode_file(forged.encode(), VERIFIER, "x.json")
    with pytest.raises(UserError, match=r"x\.json: not a ledger checkpoint file"):
        decode_file(b'{"format": "other"}', VERIFIER, "x.json")
