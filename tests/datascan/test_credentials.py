"""Credentials in datasets, on generated labelled data: each kind of key is found in its own
column and inside free text, named by kind in the json (`credential_kinds`) and in the
finding, never printed whole; look-alikes (SHA-256 digests, UUIDs, base64 of random bytes,
order ids) are not flagged. Keys are generated from each provider's published shape, with a
different seed per run, not copied from any fixture."""

from __future__ import annotations

import base64
import csv
import hashlib
import json
import random
import string
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.cli.run import custos

ALNUM = string.ascii_letters + string.digits
BASE32 = string.ascii_uppercase + "234567"


def _generators(rng: random.Random) -> dict[str, tuple[str, Callable[[], str]]]:
    def pick(alphabet: str, n: int) -> str:
        return "".join(rng.choice(alphabet) for _ in range(n))

    def b64url(raw: bytes) -> str:
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    def jwt() -> str:
        head = b64url(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
        body = b64url(json.dumps({"sub": str(rng.randrange(10**6)), "iat": 1700000000}).encode())
        return f"{head}.{body}.{b64url(rng.randbytes(32))}"

    return {
        "aws_key_id": ("AWS Access Key", lambda: "AKIA" + pick(BASE32, 16)),
        "github_token": ("GitHub Token", lambda: "ghp_" + pick(ALNUM, 36)),
        "slack_token": ("Slack Token", lambda: f"xoxb-{rng.randrange(10**11, 10**12)}-"
                        f"{rng.randrange(10**11, 10**12)}-{pick(ALNUM, 24)}"),
        "stripe_key": ("Stripe Access Key", lambda: "sk_live_" + pick(ALNUM, 24)),
        "jwt": ("JSON Web Token", jwt),
    }  # fmt: skip


DECOYS: dict[str, Callable[[random.Random, int], str]] = {
    "sha256": lambda rng, i: hashlib.sha256(rng.randbytes(16)).hexdigest(),
    "device_id": lambda rng, i: str(uuid.UUID(int=rng.getrandbits(128))),
    "blob": lambda rng, i: base64.b64encode(rng.randbytes(24)).decode(),
    "order_id": lambda rng, i: f"ORD-{rng.randrange(10**11, 10**12)}",
}


@pytest.mark.parametrize("seed", [11, 12, 13])
def test_credentials_found_named_and_masked(tmp_path: Path, seed: int) -> None:
    rng = random.Random(seed)
    kinds = _generators(rng)
    rows, planted = [], []
    for i in range(400):
        row = {"id": str(i)}
        for column, (_label, make) in kinds.items():
            row[column] = make()
            planted.append(row[column])
        for column, decoy in DECOYS.items():
            row[column] = decoy(rng, i)
        inline = kinds["aws_key_id"][1]()
        row["note"] = f"rotate {inline} before friday" if i % 4 == 0 else "checked, all good"
        if i % 4 == 0:
            planted.append(inline)
        rows.append(row)
    path = tmp_path / "exports.csv"
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)

    result = custos("scan-data", str(path), "--format", "json", "--sample", "all")
    assert result.code == 1, result.err
    (report,) = result.json()
    columns = {c["name"]: c for c in report["columns"]}
    for column, (label, _make) in kinds.items():
        (hit,) = columns[column]["pii"]
        assert hit["type"] == "secret"
        assert hit["count"] / len(rows) >= 0.98, (column, hit["count"])  # recall per kind
        assert columns[column]["credential_kinds"] == [label]
    (note,) = columns["note"]["pii"]
    assert (note["type"], note["count"]) == ("secret", 100)
    for column in DECOYS:
        assert columns[column]["pii"] == [], column  # no look-alike flagged
        assert "credential_kinds" not in columns[column]
    (credential,) = [f for f in report["findings"] if f["rule"] == "data/credential"]
    for label, _make in kinds.values():
        assert label in credential["message"]
    for output in (result.out, custos("scan-data", str(path)).out,
                   custos("scan-data", str(path), "--format", "sarif").out):  # fmt: skip
        assert not [value for value in planted if value in output]
