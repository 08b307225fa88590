"""`custos kek`, `encrypt`, `decrypt`, `rekey` as a user runs them: a round trip through a
passphrase-protected KEK and an environment KEK, and every refusal (tampering, the wrong
passphrase, a retired or unknown KEK) is one line, exit 2, no traceback and no output file."""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path

from tests.cli.run import custos

PASSPHRASE = {"CUSTOS_KEK_PASSPHRASE": "correct horse battery staple"}


def _project(tmp_path: Path) -> tuple[Path, Path]:
    data = tmp_path / "train.csv"
    data.write_bytes(
        b"id,email\n" + b"".join(b"%d,u%d@example.org\n" % (i, i) for i in range(50_000))
    )
    return tmp_path, data


def test_round_trip_rekey_and_retire(tmp_path: Path) -> None:
    base, data = _project(tmp_path)
    made = custos("kek", "create", "data-2026", "--dir", str(base), env=PASSPHRASE)
    assert made.code == 0, made.err
    key_file = base / ".custos" / "keks" / "data-2026.key"
    assert oct(key_file.stat().st_mode & 0o777) == "0o600"
    assert b"data-2026" in key_file.read_bytes()

    enc = custos("encrypt", str(data), "--dir", str(base), env=PASSPHRASE)
    assert enc.code == 0, enc.err
    sealed = data.with_name("train.csv.cenc")
    assert b"@example.org" not in sealed.read_bytes()
    out = tmp_path / "plain.csv"
    dec = custos("decrypt", str(sealed), "--out", str(out), "--dir", str(base), env=PASSPHRASE)
    assert dec.code == 0, dec.err
    assert out.read_bytes() == data.read_bytes()

    key = base64.b64encode(os.urandom(32)).decode()
    env = {**PASSPHRASE, "NEXT_KEK": key}
    assert custos("kek", "create", "data-2027", "--env", "NEXT_KEK", "--dir", str(base),
                  env=env).code == 0  # fmt: skip
    assert custos("rekey", str(sealed), "--kek", "data-2027", "--dir", str(base), env=env).code == 0
    assert custos("decrypt", str(sealed), "--check", "--dir", str(base),
                  env={"NEXT_KEK": key}).code == 0  # fmt: skip
    assert custos("kek", "retire", "data-2026", "--dir", str(base)).code == 0
    listed = json.loads(custos("kek", "list", "--dir", str(base), "--format", "json").out)
    assert {(k["id"], k["status"], k["source"]) for k in listed} == {
        ("data-2026", "retired", "file"), ("data-2027", "active", "env"),
    }  # fmt: skip
    refused = custos("encrypt", str(data), "--kek", "data-2026", "--dir", str(base),
                     "--out", str(tmp_path / "x.cenc"), env=PASSPHRASE)  # fmt: skip
    assert refused.code == 2
    assert "retired" in refused.err


def test_refusals_are_one_line_and_leave_nothing(tmp_path: Path) -> None:
    base, data = _project(tmp_path)
    assert custos("kek", "create", "k1", "--dir", str(base), env=PASSPHRASE).code == 0
    assert custos("encrypt", str(data), "--dir", str(base), env=PASSPHRASE).code == 0
    sealed = data.with_name("train.csv.cenc")
    raw = bytearray(sealed.read_bytes())
    raw[len(raw) // 2] ^= 1
    sealed.write_bytes(bytes(raw))
    out = tmp_path / "out.csv"
    wrong = {"CUSTOS_KEK_PASSPHRASE": "a wrong passphrase!"}
    for env, says in ((PASSPHRASE, "fails authentication"), (wrong, "wrong passphrase")):
        result = custos("decrypt", str(sealed), "--out", str(out), "--dir", str(base), env=env)
        assert result.code == 2, result.err
        assert says in result.err
        assert result.err.strip().count("\n") == 0
        assert "Traceback" not in result.err
        assert not out.exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".out.csv")] == []
    unknown = custos("encrypt", str(data), "--kek", "nope", "--dir", str(base), env=PASSPHRASE)
    assert unknown.code == 2
    assert "not in" in unknown.err
    plain = custos("decrypt", str(data), "--check", "--dir", str(base), env=PASSPHRASE)
    assert plain.code == 2
    assert "not a Custos encrypted file" in plain.err
