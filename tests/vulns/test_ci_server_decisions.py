"""`custos ci` against a real server: the vulnerability decisions are taken on the server, and a
CI job starts from an empty database each time, so the gate asks the server for the
acceptances of the project's systems. Before the acceptance the critical torch advisory fails
`--fail-on critical`; after it, a fresh job passes and its SARIF lists the advisory as a note;
without a server to ask, the gate has only the local decisions."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

from custos.intel.store import import_source
from custos.server.rbac import Binding, Role
from tests.cli.run import custos
from tests.server.api_client import bearer
from tests.server.conftest import Running, server, start  # noqa: F401
from tests.store.conftest import empty_url, make_store, pg_database, store  # noqa: F401
from tests.vulns.test_vulns_cli import ADVISORIES, project

RULE = "repo/vulnerable-dependency"


def _torch(out: Path) -> str:
    log = json.loads((out / "custos.sarif").read_text())
    (level,) = [r["level"] for r in log["runs"][0]["results"] if r["ruleId"] == RULE]
    return str(level)


def test_a_fresh_ci_job_gates_on_the_servers_acceptance(
    server: Running,  # noqa: F811
    tmp_path: Path,
    custos_home: Path,
) -> None:
    root = project(tmp_path / "p")
    import_source(ADVISORIES)
    officer = bearer(server, "officer", Binding(Role.security_officer))
    token = officer.headers["Authorization"].removeprefix("Bearer ")
    env = {"CUSTOS_URL": server.url, "CUSTOS_TOKEN": token, "CUSTOS_ACTOR": "ci"}
    first = custos("ci", str(root), "--out", str(tmp_path / "a"), "--fail-on", "critical",
                   env=env)  # fmt: skip
    assert first.code == 1, first.err
    assert _torch(tmp_path / "a") == "error"

    listing = officer.get("/api/v1/systems/scoring/vulnerabilities").json()
    (vuln,) = listing["vulnerabilities"]
    until = (server.clock().date() + dt.timedelta(days=300)).isoformat()
    accepted = officer.post(
        f"/api/v1/systems/scoring/vulnerabilities/{vuln['id']}/accept",
        json={"reason": "offline batch job only", "expires": until},
    )
    assert accepted.status_code == 200, accepted.text

    shutil.rmtree(root / ".custos")  # the next job starts from nothing, as CI does
    second = custos("ci", str(root), "--out", str(tmp_path / "b"), "--fail-on", "critical",
                    env=env)  # fmt: skip
    assert second.code == 0, second.out + second.err
    assert _torch(tmp_path / "b") == "note"

    shutil.rmtree(root / ".custos")
    away = custos("ci", str(root), "--out", str(tmp_path / "c"), "--fail-on", "critical",
                  "--no-push", env={**env, "CUSTOS_URL": "http://127.0.0.1:9"})  # fmt: skip
    assert away.code == 1  # no server asked: the local database knows no acceptance
