"""Client policy (rollback, fork, unproven growth) and the offline audit of a whole log."""

from __future__ import annotations

import pytest

from custos.errors import UserError
from custos.ledger.checkpoint import (
    Checkpoint,
    CheckpointError,
    generate_log_key,
    parse_and_verify,
    sign_checkpoint,
)
from custos.ledger.entry import LedgerEntry
from custos.ledger.merkle import Frontier, leaf_hash, root_of
from custos.ledger.proofs import MemoryNodes, consistency_proof
from custos.ledger.verifier import CheckpointRefused, accept, verify_log

ORIGIN = "custos.example/ledger"
SIGNER, VERIFIER = generate_log_key(ORIGIN)


def entries(count: int, tag: str = "") -> list[bytes]:
    return [
        LedgerEntry(
            "evidence", {"check": "model-file", "n": i, "tag": tag}, "2026-03-01T09:30:00Z"
        ).canonical_bytes()
        for i in range(count)
    ]


DATA = entries(20)
HASHES = [leaf_hash(d) for d in DATA]
NODES = MemoryNodes.from_leaf_hashes(HASHES)


def checkpoint(size: int, hashes: list[bytes] = HASHES) -> Checkpoint:
    return Checkpoint(ORIGIN, size, root_of(hashes[:size]))


def note(size: int, hashes: list[bytes] = HASHES) -> str:
    return sign_checkpoint(checkpoint(size, hashes), SIGNER)


def test_client_follows_a_growing_log() -> None:
    trusted = accept(parse_and_verify(note(3), VERIFIER), None, [])
    for size in (3, 7, 8, 20):
        new = parse_and_verify(note(size), VERIFIER)
        trusted = accept(new, trusted, consistency_proof(NODES, trusted.size, size))
        assert trusted == new
    assert trusted.size == 20


def test_rollback_is_refused() -> None:
    with pytest.raises(CheckpointRefused, match="went back from size 8 to size 5") as info:
        accept(checkpoint(5), checkpoint(8), [])
    assert info.value.kind == "rollback"


def test_fork_at_the_same_size_is_refused() -> None:
    forked = [*HASHES[:4], leaf_hash(b"rewritten"), *HASHES[5:]]
    with pytest.raises(CheckpointRefused, match="two roots for size 8") as info:
        accept(checkpoint(8, forked), checkpoint(8), [])
    assert info.value.kind == "fork"


def test_growth_from_rewritten_history_is_refused_even_with_its_own_proof() -> None:
    forked = [*HASHES[:4], leaf_hash(b"rewritten"), *HASHES[5:]]
    forked_proof = consistency_proof(MemoryNodes.from_leaf_hashes(forked), 6, 12)
    with pytest.raises(CheckpointRefused, match="not proven to extend") as info:
        accept(checkpoint(12, forked), checkpoint(6), forked_proof)
    assert info.value.kind == "inconsistent"


def test_growth_without_a_proof_is_refused() -> None:
    with pytest.raises(CheckpointRefused, match="is empty") as info:
        accept(checkpoint(12), checkpoint(6), [])
    assert info.value.kind == "inconsistent"


def test_other_log_and_same_checkpoint() -> None:
    other = Checkpoint("other.example/log", 9, root_of(HASHES[:9]))
    with pytest.raises(CheckpointRefused, match="trusted log is") as info:
        accept(other, checkpoint(8), consistency_proof(NODES, 8, 9))
    assert info.value.kind == "origin"
    assert accept(checkpoint(8), checkpoint(8), []) == checkpoint(8)


def test_an_intact_log_verifies() -> None:
    result = verify_log([note(8), note(3), note(20)], VERIFIER, leaf_data=DATA, leaf_hashes=HASHES)
    assert result.ok, result.problems
    assert (result.entries, result.checkpoints, result.covered) == (20, 3, 20)
    assert result.latest == checkpoint(20)
    assert result.first_bad_index is None
    assert result.bad_range is None


def test_entries_after_the_last_checkpoint_are_not_covered() -> None:
    result = verify_log([note(8)], VERIFIER, leaf_hashes=HASHES)
    assert result.ok
    assert result.covered == 8


def test_changed_entry_data_is_pinned_by_its_stored_hash() -> None:
    data = list(DATA)
    data[5] = entries(6, tag="edited")[5]
    result = verify_log([note(3), note(8)], VERIFIER, leaf_data=data, leaf_hashes=HASHES)
    assert not result.ok
    assert result.first_bad_index == 5
    assert result.bad_range is None  # the stored hashes still match the signed roots
    assert len(result.problems) == 1
    assert result.problems[0].startswith("entry 5: data hashes to")


def test_rewritten_entry_and_hash_are_located_between_checkpoints() -> None:
    data = list(DATA)
    data[5] = entries(6, tag="edited")[5]
    hashes = [leaf_hash(d) for d in data]  # the attacker also rewrote the stored hash
    result = verify_log([note(3), note(8), note(12)], VERIFIER, leaf_data=data, leaf_hashes=hashes)
    assert (result.first_bad_index, result.bad_range) == (3, (3, 8))
    assert len(result.problems) == 2  # sizes 8 and 12 both disagree
    assert "an entry in 3..7 differs from what was signed" in result.problems[0]
    dense = [note(size) for size in range(1, 21)]
    pinned = verify_log(dense, VERIFIER, leaf_hashes=hashes)
    assert (pinned.first_bad_index, pinned.bad_range) == (5, (5, 6))
    assert "expected root" in pinned.problems[0]


def test_truncated_log_names_the_first_missing_entry() -> None:
    result = verify_log([note(3), note(8)], VERIFIER, leaf_data=DATA[:6])
    assert not result.ok
    assert result.first_bad_index == 6
    assert "entries 6..7 are missing" in result.problems[0]


def test_a_stored_hash_list_of_the_wrong_length_is_a_problem() -> None:
    result = verify_log([note(8)], VERIFIER, leaf_data=DATA[:8], leaf_hashes=HASHES[:7])
    assert result.first_bad_index == 7
    assert "8 entries but 7 stored leaf hashes" in result.problems


def test_checkpoints_not_signed_by_the_trusted_key_are_problems() -> None:
    stranger, _ = generate_log_key(ORIGIN)
    forged = sign_checkpoint(checkpoint(8), stranger)
    result = verify_log([note(3), forged], VERIFIER, leaf_hashes=HASHES)
    assert not result.ok
    assert result.checkpoints == 1
    assert result.problems == (f"checkpoint 1: signed note carries no signature by key {ORIGIN}",)
    nothing = verify_log([forged], VERIFIER, leaf_hashes=HASHES)
    assert "no checkpoint signed by the trusted key" in nothing.problems


def test_many_mismatches_are_summarised() -> None:
    data = entries(20, tag="all-edited")
    result = verify_log([note(20)], VERIFIER, leaf_data=data, leaf_hashes=HASHES)
    assert result.first_bad_index == 0
    assert "... and 10 more entries like these" in result.problems


def test_caller_errors_raise() -> None:
    with pytest.raises(UserError, match="needs the entries' data"):
        verify_log([note(3)], VERIFIER)
    with pytest.raises(CheckpointError, match="verifier key must look like"):
        verify_log([note(3)], "not-a-key", leaf_hashes=HASHES)


def test_frontier_and_verify_log_agree_on_roots() -> None:
    frontier, _ = Frontier().append(HASHES[:13])
    assert frontier.root() == checkpoint(13).root
