"""`custos serve` and `custos admin create-user`, run as a user would (subprocesses)."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.cli.run import custos
from tests.server.helpers import PASSWORD, login


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_serve_refuses_an_unmigrated_database(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'new.db'}"
    result = custos("serve", "--db", db, "--port", str(_free_port()))
    assert result.code == 2
    assert "is not at the current schema; run `custos db upgrade --db URL` first" in result.err


def test_create_user_then_serve_and_sign_in(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'c.db'}"
    assert custos("db", "upgrade", "--db", db).code == 0
    env = {"CUSTOS_ADMIN_PASSWORD": PASSWORD}
    bad = custos("admin", "create-user", "eve", "--role", "engineer", "--db", db, env=env)
    assert bad.code == 2
    assert "role engineer is bound to a system" in bad.err
    made = custos(
        "admin", "create-user", "alice", "--role", "admin", "--db", db, "--dir", str(tmp_path),
        env=env,
    )  # fmt: skip
    assert made.code == 0, made.err
    assert "created user alice with role admin" in made.out
    again = custos("admin", "create-user", "alice", "--role", "admin", "--db", db, env=env)
    assert again.code == 2
    assert "user 'alice' already exists" in again.err
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "custos", "serve", "--db", db, "--port", str(port),
         "--dir", str(tmp_path)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{url}/readyz").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "custos serve did not become ready"
            time.sleep(0.1)
        with httpx.Client(base_url=url) as client:
            login(client, "alice")
            assert client.get("/api/v1/me").json()["username"] == "alice"
    finally:
        proc.terminate()
        _out, err = proc.communicate(timeout=20)
    assert '"event":"login.succeeded"' in err  # JSON logs on stderr
    assert PASSWORD not in err
