"""`custos shred` and the `retention` check as a user meets them, through the real CLI on a
real project (SQLite ledger, passphrase-protected KEKs):

- shredding destroys the key material in place (a hard link to the same file, which sees the
  same bytes, no longer opens), deletes the file and appends a signed deletion record with the
  digests; a backup made earlier still opens until the KEK is destroyed, and then never;
- the retention check fails a retired asset without a record, passes it after the shredding,
  and finds a plaintext copy or a still-openable encrypted copy left in the project;
- every refusal (plaintext without --allow-plaintext, a KEK other files still need, a damaged
  file, no --yes without a terminal, an unknown asset) is one line, exit 2, and destroys nothing.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

import pytest

from custos.ledger.entry import LedgerEntry
from custos.store.store import Store
from tests.cli.run import Result, custos

PASSPHRASE = "correct horse battery staple"  # noqa: S105 (a test passphrase)
ENV = {"CUSTOS_KEK_PASSPHRASE": PASSPHRASE, "CUSTOS_ACTOR": "dpo@acme.example"}
PLAIN = b"id,email\n" + b"".join(b"%d,user%d@example.org\n" % (i, i) for i in range(3000))

MANIFEST = """\
organisation: {name: Acme, scope: Fraud scoring}
systems:
  - id: scorer
    name: Scorer
    purpose: Scores card payments
    lifecycle: production
    eu_ai_act: {role: provider, tier: high}
    assets:
      - {id: old-data, kind: dataset, location: data/old.csv.cenc, lifecycle: %s,
         classification: confidential, owner: dpo@acme.example}
      - {id: live-data, kind: dataset, location: data/live.csv.cenc,
         classification: confidential, owner: dpo@acme.example}
      - {id: notes, kind: dataset, location: notes/old.csv, lifecycle: retired,
         classification: internal, owner: dpo@acme.example}
"""


def _cli(*args: str) -> Result:
    return custos(*args, env=ENV)


def _write_manifest(base: Path, lifecycle: str) -> None:
    (base / "custos.yaml").write_text(MANIFEST % lifecycle)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    base = tmp_path / "project"
    (base / "data").mkdir(parents=True)
    (base / "notes").mkdir()
    _write_manifest(base, "active")
    (base / "data" / "old.csv").write_bytes(PLAIN)
    (base / "data" / "live.csv").write_bytes(PLAIN.replace(b"user", b"live"))
    (base / "notes" / "old.csv").write_bytes(PLAIN.replace(b"user", b"note"))
    assert _cli("kek", "create", "k-shared", "--dir", str(base)).code == 0
    for name in ("old.csv", "live.csv"):
        done = _cli("encrypt", str(base / "data" / name), "--kek", "k-shared", "--dir", str(base))
        assert done.code == 0, done.err
        (base / "data" / name).unlink()  # only the ciphertext is kept
    return base


def _scan(base: Path, asset: str) -> dict[str, dict[str, Any]]:
    done = _cli("scan", str(base), "--format", "json")
    assert done.code in (0, 1), done.err
    return {e["check"]: e for e in done.json()["evidence"] if e["asset"] == asset}


def _rules(evidence: dict[str, Any]) -> dict[str, tuple[str, str]]:
    return {f["rule"]: (f["severity"], f["location"]) for f in evidence["findings"]}


def _ledger_entry(base: Path, seq: int) -> LedgerEntry:
    with Store.open(None, base) as store:
        data = store.ledger_entry(seq)
    assert data is not None
    return LedgerEntry.from_canonical(data)


def _opens(path: Path, base: Path) -> Result:
    return _cli("decrypt", str(path), "--check", "--dir", str(base))


def test_shred_records_and_retention_follows(project: Path, tmp_path: Path) -> None:
    sealed = project / "data" / "old.csv.cenc"
    ciphertext_digest = hashlib.sha256(sealed.read_bytes()).hexdigest()
    linked = tmp_path / "same-inode.cenc"  # sees every in-place write to the shredded file
    os.link(sealed, linked)
    backup = tmp_path / "backup.cenc"  # an earlier copy: its own wrapped key
    backup.write_bytes(sealed.read_bytes())

    _write_manifest(project, "retired")
    before = _scan(project, "old-data")["retention"]
    assert before["result"] == "fail"
    assert set(_rules(before)) == {"retention/no-deletion-record", "retention/not-deleted"}

    done = _cli("shred", "old-data", str(project), "--reason", "retention over", "--yes",
                "--format", "json")  # fmt: skip
    assert done.code == 0, done.err
    assert not sealed.exists()
    assert not linked.read_bytes().startswith(b"id,")  # ciphertext stays ciphertext
    dead = _opens(linked, project)
    assert dead.code == 2
    assert "does not open" in dead.err
    assert _opens(backup, project).code == 0  # what --destroy-kek is for, and says so
    assert "--destroy-kek" in done.err

    seq = done.json()["ledger_entry"]
    entry = _ledger_entry(project, seq)
    assert (entry.kind, entry.actor) == ("event", "dpo@acme.example")
    payload = entry.payload
    assert payload["event"] == "asset-shredded"
    assert (payload["system"], payload["asset"], payload["reason"]) == (
        "scorer", "old-data", "retention over"
    )  # fmt: skip
    [record] = payload["files"]
    assert record["path"] == "data/old.csv.cenc"
    assert record["sha256"] == ciphertext_digest
    assert record["plaintext_sha256"] == hashlib.sha256(PLAIN).hexdigest()
    assert (record["plaintext_size"], record["method"], record["kek"]) == (
        len(PLAIN), "crypto-shred", "k-shared"
    )  # fmt: skip
    proof = _cli("ledger", "prove", str(seq), str(project))
    assert proof.code == 0
    assert proof.json()["entry"]["payload"]["asset"] == "old-data"

    after = _scan(project, "old-data")
    assert after["retention"]["result"] == "pass", after["retention"]
    assert f"ledger entry {seq}" in after["retention"]["summary"]
    assert "dpo@acme.example" in after["retention"]["summary"]
    for name in ("dataset", "encryption", "artifact-baseline"):
        assert after[name]["result"] == "not_applicable"  # gone, not in error
    assert _scan(project, "live-data")["encryption"]["result"] == "pass"

    # copies left in the project, where discovery looks, whatever their name
    (project / "exports").mkdir()
    (project / "exports" / "dump-2023.txt").write_bytes(PLAIN)
    (project / "exports" / "old.bak").write_bytes(backup.read_bytes())
    copies = _rules(_scan(project, "old-data")["retention"])
    assert copies == {
        "retention/plaintext-copy": ("high", "exports/dump-2023.txt"),
        "retention/recoverable-copy": ("medium", "exports/old.bak"),
    }
    # a restored file at the asset's own location
    (project / "data").mkdir(exist_ok=True)
    (project / "data" / "old.csv.cenc").write_bytes(backup.read_bytes())
    assert "retention/restored" in _rules(_scan(project, "old-data")["retention"])


def test_destroy_kek_refused_while_needed_then_every_copy_dies(
    project: Path, tmp_path: Path
) -> None:
    backup = tmp_path / "backup.cenc"
    backup.write_bytes((project / "data" / "old.csv.cenc").read_bytes())
    key_file = project / ".custos" / "keks" / "k-shared.key"
    _write_manifest(project, "retired")

    refused = _cli("shred", "old-data", str(project), "--destroy-kek", "--yes")
    assert refused.code == 2
    assert "data/live.csv.cenc" in refused.err
    assert "rekey" in refused.err
    assert refused.err.strip().count("\n") == 0
    assert (project / "data" / "old.csv.cenc").exists()
    assert key_file.exists()

    assert _cli("kek", "create", "k-live", "--dir", str(project)).code == 0
    live = project / "data" / "live.csv.cenc"
    assert _cli("rekey", str(live), "--kek", "k-live", "--dir", str(project)).code == 0
    done = _cli("shred", "old-data", str(project), "--destroy-kek", "--yes", "--format", "json")
    assert done.code == 0, done.err
    assert done.json()["record"]["keks_destroyed"] == ["k-shared"]
    assert not key_file.exists()
    listed = json.loads(_cli("kek", "list", "--dir", str(project), "--format", "json").out)
    assert {k["id"]: k["status"] for k in listed} == {"k-shared": "destroyed", "k-live": "active"}
    gone = _opens(backup, project)
    assert gone.code == 2
    assert "destroyed" in gone.err
    assert _opens(live, project).code == 0  # the rekeyed file is untouched

    (project / "exports").mkdir()
    (project / "exports" / "old.bak").write_bytes(backup.read_bytes())
    retention = _scan(project, "old-data")["retention"]
    assert retention["result"] == "pass"
    assert _rules(retention) == {"retention/unrecoverable-copy": ("info", "exports/old.bak")}
    refused_retire = _cli("kek", "retire", "k-shared", "--dir", str(project))
    assert refused_retire.code == 2


def test_plaintext_needs_consent_and_is_overwritten(project: Path, tmp_path: Path) -> None:
    plain = project / "notes" / "old.csv"
    original = plain.read_bytes()
    linked = tmp_path / "same-inode.csv"
    os.link(plain, linked)
    refused = _cli("shred", "notes", str(project), "--yes")
    assert refused.code == 2
    assert "--allow-plaintext" in refused.err
    assert "Nothing was shredded" in refused.err
    assert plain.read_bytes() == original

    done = _cli("shred", "notes", str(project), "--yes", "--allow-plaintext", "--format", "json")
    assert done.code == 0, done.err
    assert not plain.exists()
    assert not (project / "notes").exists()  # left empty, removed
    overwritten = linked.read_bytes()
    assert len(overwritten) == len(original)
    assert b"example.org" not in overwritten
    [record] = done.json()["record"]["files"]
    assert (record["method"], record["format"]) == ("overwrite", "plaintext")
    assert record["plaintext_sha256"] == hashlib.sha256(original).hexdigest()


def test_refusals_destroy_nothing(project: Path) -> None:
    sealed = project / "data" / "old.csv.cenc"
    raw = bytearray(sealed.read_bytes())
    raw[-5] ^= 1
    sealed.write_bytes(bytes(raw))
    cases = [
        (("shred", "old-data", str(project), "--yes"), "fails authentication"),
        (("shred", "no-such-asset", str(project), "--yes"), "no asset 'no-such-asset'"),
        (("shred", "live-data", str(project)), "pass --yes"),  # stdin is not a terminal
    ]
    for args, says in cases:
        result = _cli(*args)
        assert result.code == 2, (args, result.err)
        assert says in result.err
        assert result.err.strip().count("\n") == 0
        assert "Traceback" not in result.err
    assert sealed.read_bytes() == bytes(raw)
    assert (project / "data" / "live.csv.cenc").exists()


def test_shredding_without_the_kek_at_hand_says_what_is_not_recorded(project: Path) -> None:
    env = {k: v for k, v in ENV.items() if k != "CUSTOS_KEK_PASSPHRASE"}
    env["CUSTOS_KEK_PASSPHRASE"] = ""
    _write_manifest(project, "retired")
    done = custos("shred", "old-data", str(project), "--yes", "--format", "json", env=env)
    assert done.code == 0, done.err
    [record] = done.json()["record"]["files"]
    assert record["plaintext_sha256"] is None
    assert record["sha256"]
    assert any("not recorded" in note for note in done.json()["notes"].values())
    rules = _rules(_scan(project, "old-data")["retention"])
    assert rules["retention/copies-unsearchable"][0] == "info"
