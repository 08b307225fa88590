"""The guard's pure parts: hashing and verification, JWTs, buckets, hardening, audit batches,
the online extraction test, and the command line."""

from __future__ import annotations

import json
import time
import warnings
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from custos.errors import UserError
from custos.guard import extra
from custos.guard.audit import AuditLog, line, verify_batch
from custos.guard.bucket import MemoryBuckets, refill, take
from custos.guard.extraction import Detector, ExtractionSettings, vector
from custos.guard.harden import Hardening, harden, is_probability_vector
from custos.guard.keys import (
    HMAC_PREFIX,
    JwtSettings,
    create_key,
    load_ring,
    looks_like_jwt,
    read_records,
    verify_jwt,
)


def test_keys_file_holds_hashes_only(tmp_path: Path) -> None:
    path = tmp_path / "k" / "keys.json"
    key = create_key(path, "ci-job", 5, 10)
    slow = create_key(path, "legacy", 5, 10, argon2=True)
    text = path.read_text()
    assert key not in text
    assert key.split(".")[1] not in text
    assert slow not in text
    assert path.stat().st_mode & 0o777 == 0o600
    assert (path.parent / "guard-pepper").stat().st_mode & 0o777 == 0o600
    records = {r.id: r for r in read_records(path)}
    assert records["ci-job"].hash.startswith(HMAC_PREFIX)
    assert records["legacy"].hash.startswith("$argon2id$")
    ring = load_ring(path)
    assert ring.verify(key) == records["ci-job"]
    assert ring.verify(key + "x") is None
    assert ring.verify("ci-job.") is None
    assert ring.verify(key.replace("ci-job", "legacy")) is None
    assert ring.needs_slow_check(slow)
    assert ring.verify(slow) == records["legacy"]
    assert not ring.needs_slow_check(slow)  # remembered
    assert ring.verify(slow) == records["legacy"]
    with pytest.raises(UserError, match="exists"):
        create_key(path, "ci-job", 5, 10)
    with pytest.raises(UserError, match="key id"):
        create_key(path, "bad.id", 5, 10)


def test_pepper_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CUSTOS_GUARD_PEPPER", "one")
    key = create_key(tmp_path / "keys.json", "a", 1, 1)
    assert load_ring(tmp_path / "keys.json").verify(key) is not None
    monkeypatch.setenv("CUSTOS_GUARD_PEPPER", "two")
    assert load_ring(tmp_path / "keys.json").verify(key) is None


def test_jwt_hs256_with_audience() -> None:
    from authlib.deprecate import AuthlibDeprecationWarning  # type: ignore[import-untyped]

    with warnings.catch_warnings():  # authlib 1.x: "moves to joserfc", on import (as oidc.py)
        warnings.simplefilter("ignore", AuthlibDeprecationWarning)
        from authlib.jose import JsonWebToken  # type: ignore[import-untyped]

    secret = b"s" * 32
    settings = JwtSettings(secret, "HS256", "model-api", rate=3, burst=4)

    def mint(claims: dict[str, object], key: bytes = secret) -> str:
        token: bytes = JsonWebToken(["HS256"]).encode({"alg": "HS256"}, claims, key)
        return token.decode()

    now = int(time.time())
    good = mint({"sub": "svc-1", "aud": "model-api", "exp": now + 60})
    assert looks_like_jwt(good)
    who = verify_jwt(good, settings)
    assert who is not None
    assert who.id == "jwt:svc-1"
    assert who.rate == 3
    assert verify_jwt(mint({"sub": "svc-1", "aud": "other", "exp": now + 60}), settings) is None
    assert verify_jwt(mint({"sub": "svc-1", "aud": "model-api", "exp": now - 100}),
                      settings) is None  # fmt: skip
    assert verify_jwt(mint({"sub": "x", "aud": "model-api"}, b"t" * 32), settings) is None


def test_bucket_maths() -> None:
    assert refill(0, 10, 12, rate=2, burst=5) == 4
    assert refill(4, 10, 100, rate=2, burst=5) == 5
    assert refill(1, 10, 9, rate=2, burst=5) == 1  # the clock never runs back
    decision, left = take(0.5, rate=2)
    assert not decision.allowed
    assert decision.retry_after == 0.25
    assert left == 0.5
    b = MemoryBuckets()
    got = [b.take("k", rate=1, burst=2, now=100.0).allowed for _ in range(3)]
    assert got == [True, True, False]
    assert b.take("k", rate=1, burst=2, now=101.0).allowed
    assert b.take("other", rate=1, burst=2, now=101.0).allowed


def test_hardening_changes_only_probability_vectors() -> None:
    h = Hardening(top_k=1, digits=1)
    value = {"p": [0.26, 0.74], "labels": {"a": 0.66, "b": 0.34}, "ints": [0, 1],
             "xs": [1.5, 2.5], "text": "0.123", "flag": True, "n": 0.123456,
             "batch": [[0.1, 0.9], [0.55, 0.45]]}  # fmt: skip
    assert harden(value, h) == {"p": [0.0, 0.7], "labels": {"a": 0.7}, "ints": [0, 1],
                                "xs": [1.5, 2.5], "text": "0.123", "flag": True, "n": 0.123456,
                                "batch": [[0.0, 0.9], [0.6, 0.0]]}  # fmt: skip
    assert harden(value, Hardening()) == value
    assert not is_probability_vector([0.5, 0.6])
    assert not is_probability_vector([True, 0.0])


def test_audit_batches_by_lines_and_time(tmp_path: Path) -> None:
    path = tmp_path / "a.jsonl"
    log = AuditLog(path, "a.jsonl", batch_lines=2, batch_seconds=5)
    data = [line(1.7e9 + i, "k", "127.0.0.1", "/p", "POST", 200, 1.0, [i], None, None)
            for i in range(3)]  # fmt: skip
    assert log.write(data[0]) is None
    first = log.write(data[1])
    assert first is not None
    assert (first.first_line, first.last_line) == (1, 2)
    assert log.write(data[2]) is None
    assert log.due(time.monotonic()) is None
    late = log.due(time.monotonic() + 6)
    assert late is not None
    assert (late.first_line, late.last_line) == (3, 3)
    assert log.close() is None
    assert verify_batch(path, 1, 2, first.sha256)
    assert verify_batch(path, 3, 3, late.sha256)
    assert json.loads(data[0])["ts"] == "2023-11-14T22:13:20.000Z"
    again = AuditLog(path, "a.jsonl", batch_lines=1)  # a restart continues the numbering
    batch = again.write(data[0])
    assert batch is not None
    assert batch.first_line == 4
    again.close()
    with path.open("r+b") as f:  # one byte changed: the digest no longer matches
        f.seek(10)
        f.write(b"X")
    assert not verify_batch(path, 1, 2, first.sha256)


def test_vector_extraction_from_bodies() -> None:
    assert vector([1, 2.5]) == [1.0, 2.5]
    assert vector({"b": 2, "a": 1}) == [1.0, 2.0]
    assert vector({"instances": [[3, 4], [5, 6]]}) == [3.0, 4.0]
    assert vector({"prompt": "hello"}) is None
    assert vector("text") is None
    assert vector([True, 1]) is None


def test_online_prada_separates_synthetic_from_natural() -> None:
    rng = np.random.default_rng(3)
    d = Detector(ExtractionSettings(min_queries=60, every=4))
    assert all(d.observe("nat", list(rng.normal(size=5))) is None for _ in range(400))
    seeds = rng.normal(size=(3, 5))
    found = [d.observe("syn", list(seeds[i // 40 % 3] + rng.normal(scale=0.01, size=5)))
             for i in range(200)]  # fmt: skip
    hits = [v for v in found if v is not None]
    assert len(hits) == 1
    assert hits[0].shapiro_w < 0.9
    grid = [d.observe("grid", [float(i), 0.0, 1.0]) for i in range(100)]  # a lattice walk
    assert any(v is not None and v.shapiro_w == 0.0 for v in grid)


def test_cli_key_create_and_missing_extra(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from custos.cli.app import register

    app = register(["guard"])
    runner = CliRunner()
    path = tmp_path / "keys.json"
    r = runner.invoke(app, ["guard", "key", "create", "job-1", "--keys", str(path)])
    assert r.exit_code == 0, r.output
    key = r.stdout.strip().splitlines()[0]
    assert key.startswith("job-1.")
    assert load_ring(path).verify(key) is not None
    monkeypatch.setattr(extra, "available", lambda: False)
    r = runner.invoke(app, ["guard", "--upstream", "http://127.0.0.1:1"])
    assert isinstance(r.exception, extra.MissingExtra)
    assert "pip install 'custos[guard]'" in str(r.exception)
