"""`custos vulns` end to end on a project with a repository asset pinning a vulnerable torch
and advisories imported from OSV records: a scan opens it (with its due date, what it exposes
and the risk it makes more likely), `accept` refuses bad input with one line and exit 2 and
records a good decision in the ledger, `assess` counts the accepted vulnerability as
informational, `reopen` withdraws it, an upgrade and a new scan fix it; an open one past its
SLA is an overdue finding in the assessment."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from custos.intel.store import import_source
from custos.workspace import build_report, open_workspace
from tests.cli.run import custos

ADVISORIES = Path(__file__).resolve().parents[1] / "intel" / "advisories"
MANIFEST = """\
version: 1
organisation:
  name: Acme
  scope: Scoring
  vulnerability_sla: {critical: 5, high: 20, medium: 60, low: 120}
systems:
  - id: scoring
    name: Scoring
    purpose: Scores transactions
    lifecycle: production
    eu_ai_act: {role: provider, tier: limited}
    assets:
      - {id: scoring-repo, kind: repository, location: serving, owner: ML}
      - {id: scorer, kind: model, location: models/scorer.pt, owner: ML}
risks:
  - id: supply-chain
    title: A compromised or flawed ML library runs code in serving
    threats: [atlas:AML.T0010.001]
    assets: [scorer]
    likelihood: 2
    impact: 4
    treatment: mitigate
    controls: [custos:ai:ml-dependencies]
"""


def project(root: Path) -> Path:
    (root / "serving").mkdir(parents=True)
    (root / "models").mkdir()
    (root / "models" / "scorer.pt").write_bytes(b"\x80\x04N.")
    (root / "serving" / "app.py").write_text("def score(x):\n    return x\n")
    (root / "serving" / "requirements.txt").write_text("torch==2.5.1\n")
    (root / "custos.yaml").write_text(MANIFEST)
    return root


def test_the_lifecycle_from_the_command_line(tmp_path: Path, custos_home: Path) -> None:
    root = project(tmp_path / "p")
    import_source(ADVISORIES)
    env = {"CUSTOS_ACTOR": "ann@acme"}
    gate = custos("scan", str(root), "--fail-on", "critical", env=env)
    assert gate.code == 1, gate.err  # the critical torch advisory is the only blocker
    listed = custos("vulns", "list", str(root), "--format", "json", env=env)
    assert listed.code == 0, listed.err
    data = listed.json()
    (vuln,) = data["vulnerabilities"]
    assert (vuln["package"], vuln["advisory"], vuln["state"], vuln["fixed_in"]) == (
        "torch", "GHSA-53q9-r3pm-6pq6", "open", "2.6.0")  # fmt: skip
    opened = dt.datetime.fromisoformat(vuln["opened_at"]).date()
    assert vuln["due"] == (opened + dt.timedelta(days=5)).isoformat()  # critical: 5 days
    assert vuln["exposes"] == ["scoring-repo", "scorer"]
    (hint,) = data["suggestions"]
    assert (hint["risk"], hint["likelihood"], hint["suggested"]) == ("supply-chain", 2, 5)

    short = custos("vulns", "accept", "GHSA-53q9-r3pm-6pq6", str(root), "--reason", "meh",
                   "--expires", "2099-01-01", env=env)  # fmt: skip
    assert short.code == 2
    assert "reason" in short.err
    assert "Traceback" not in short.err
    unknown = custos("vulns", "accept", "GHSA-0000-0000-0000", str(root), "--reason",
                     "offline batch job only", "--expires", "2099-01-01", env=env)  # fmt: skip
    assert unknown.code == 2
    assert "no tracked vulnerability" in unknown.err
    until = (dt.date.today() + dt.timedelta(days=30)).isoformat()
    ok = custos("vulns", "accept", "cve-2025-32434", str(root), "--reason",
                "offline batch job only, weights from our own registry", "--expires", until,
                env=env)  # fmt: skip
    assert ok.code == 0, ok.err
    accepted = custos("vulns", "list", str(root), "-f", "json", env=env).json()
    assert accepted["vulnerabilities"][0]["accepted"]["by"] == "ann@acme"
    assert accepted["suggestions"] == []

    gate = custos("scan", str(root), "--fail-on", "critical", env=env)
    assert gate.code == 0, gate.out  # accepted: no longer blocks the gate
    report = custos("assess", str(root), "--format", "json", env=env).json()
    (finding,) = [f for f in report["findings"] if f["rule"] == "repo/vulnerable-dependency"]
    assert finding["severity"] == "info"
    assert f"until {until}" in finding["message"]
    ledger = custos("ledger", "verify", str(root), env=env)
    assert ledger.code == 0, ledger.err

    assert custos("vulns", "reopen", str(vuln["id"]), str(root), env=env).code == 0
    again = custos("assess", str(root), "--format", "json", env=env).json()
    (finding,) = [f for f in again["findings"] if f["rule"] == "repo/vulnerable-dependency"]
    assert finding["severity"] == "critical"

    # twenty days on, still open: overdue, a finding of its own
    ws = open_workspace(root, None)
    later = build_report(ws, dt.datetime.now(dt.UTC) + dt.timedelta(days=20))
    ws.store.close()
    overdue = [f for f in later.findings if f.rule == "vuln/overdue"]
    assert len(overdue) == 1
    assert "torch GHSA-53q9-r3pm-6pq6" in overdue[0].message

    (root / "serving" / "requirements.txt").write_text("torch==2.6.0\n")
    custos("scan", str(root), env=env)
    fixed = custos("vulns", "list", str(root), "--state", "fixed", "-f", "json", env=env).json()
    assert [v["state"] for v in fixed["vulnerabilities"]] == ["fixed"]
    assert fixed["counts"]["fixed"] == 1
    assert fixed["counts"]["open"] == 0
    bad = custos("vulns", "list", str(root), "--state", "closed", env=env)
    assert bad.code == 2
    assert "--state" in bad.err
