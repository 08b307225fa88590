"""`custos ai-act classify` and `annex-iv` end to end: the classifier gets the issue's cases
right with each reason citing its point (CV screening, social scoring, a customer chatbot, a
spam filter, credit scoring, a narrow procedural task with and without profiling, a GPAI model
provider); obligations carry their date and what evidences them; the interactive form asks
and prints answers that load; Annex IV has all nine sections and names its gaps in md, html
(and pdf when WeasyPrint is installed); bad input is one line and exit 2."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.cli.run import custos

CASES: dict[str, tuple[str, dict[str, Any]]] = {
    "cv-screening": ("provider", {"annex_iii": ["4(a)"]}),
    "social-scoring": ("deployer", {"prohibited_practices": ["social-scoring"]}),
    "chatbot": ("provider", {"transparency": ["interacts-with-people"]}),
    "spam-filter": ("provider", {}),
    "credit-scoring": ("provider", {"annex_iii": ["5(b)"], "profiling": True}),
    "procedural": ("provider", {"annex_iii": ["employment"], "annex_iii_exception": True}),
    "procedural-profiling": ("provider", {"annex_iii": ["employment"],
                                          "annex_iii_exception": True, "profiling": True}),
    "foundation-model": ("provider", {"gpai": True}),
}  # fmt: skip
EXPECTED = {
    "cv-screening": ("high", "Annex III point 4(a)"),
    "social-scoring": ("prohibited", "Art. 5(1)"),
    "chatbot": ("limited", "Art. 50(1)"),
    "spam-filter": ("minimal", "Art. 4"),
    "credit-scoring": ("high", "Annex III point 5(b)"),
    "procedural": ("minimal", "Art. 6(3)"),
    "procedural-profiling": ("high", "last subparagraph"),
    "foundation-model": ("gpai", "Art. 53"),
}


def project(root: Path) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "models").mkdir(exist_ok=True)
    (root / "models" / "m.safetensors").write_bytes(b"x")
    systems = [
        {"id": sid, "name": sid.replace("-", " ").title(), "purpose": f"{sid} purpose",
         "owner": "ml@acme.example", "lifecycle": "production",
         "eu_ai_act": {"role": role, "questionnaire": answers},
         "assets": [{"id": f"{sid}-model", "kind": "model", "location": "models/m.safetensors",
                     "classification": "internal", "owner": "ml"}]}
        for sid, (role, answers) in CASES.items()
    ]  # fmt: skip
    manifest = {"version": 1, "organisation": {"name": "Acme", "scope": "AI"},
                "systems": systems}  # fmt: skip
    (root / "custos.yaml").write_text(yaml.safe_dump(manifest, sort_keys=False))
    return root


def test_the_classifier_gets_the_cases_right(tmp_path: Path) -> None:
    root = project(tmp_path / "p")
    done = custos("ai-act", "classify", str(root), "--format", "json")
    assert done.code == 0, done.err
    found = {s["id"]: s for s in done.json()["systems"]}
    for sid, (tier, cited) in EXPECTED.items():
        system = found[sid]
        texts = [*system["reasons"], *(o["citation"] for o in system["obligations"])]
        assert system["tier"] == tier, (sid, system["reasons"])
        assert any(cited in t for t in texts), (sid, texts)
    credit = found["credit-scoring"]
    art9 = next(o for o in credit["obligations"] if o["citation"] == "Art. 9")
    assert art9["applies_from"] == "2026-08-02"
    assert art9["evidenced_by"]["iso27002"]  # direct pairs of euaiact-iso27002
    assert "risk-review" in art9["evidenced_by"]["checks"]
    gpai = {o["citation"] for o in found["foundation-model"]["obligations"]}
    assert {"Art. 53(1)(a)", "Art. 53(1)(d)"} <= gpai
    table = custos("ai-act", "classify", str(root), "--system", "chatbot")
    assert table.code == 0
    assert "Art. 50(1)" in table.out
    unknown = custos("ai-act", "classify", str(root), "--system", "nope")
    assert unknown.code == 2
    assert "no AI system 'nope'" in unknown.err


def test_the_interactive_answers_classify_and_load(tmp_path: Path) -> None:
    import subprocess
    import sys

    answers = "deployer\nnone\n5(b)\nnone\n" + "n\n" * 8 + "y\n"  # public service: yes
    proc = subprocess.run(
        [sys.executable, "-m", "custos", "ai-act", "classify", "--interactive"],
        input=answers, capture_output=True, text=True, timeout=120, check=False,
        env={**__import__("os").environ, "COLUMNS": "200"},
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "Art. 27(1)" in proc.stdout  # a public-service deployer of credit scoring
    snippet = proc.stdout[proc.stdout.index("eu_ai_act:") :]
    loaded = yaml.safe_load(snippet)
    assert loaded["eu_ai_act"]["role"] == "deployer"
    assert loaded["eu_ai_act"]["questionnaire"]["public_service"] is True


def test_annex_iv_has_nine_sections_and_names_its_gaps(tmp_path: Path) -> None:
    root = project(tmp_path / "p")
    assert custos("scan", str(root)).code in (0, 1)
    event = '{"event": "deployed", "system": "credit-scoring", "version": 3}'
    appended = custos("ledger", "append", str(root), "--payload", event)
    assert appended.code == 0, appended.err
    md = custos("ai-act", "annex-iv", "credit-scoring", str(root))
    assert md.code == 0, md.err
    for number in range(1, 10):
        assert f"\n## {number}. " in md.out
    assert "Annex IV applies" in md.out
    assert "deployed: system=credit-scoring, version=3" in md.out  # section 6, from the ledger
    assert "no EU declaration of conformity" in md.out
    assert "no robustness evidence" in md.out
    out = tmp_path / "annex.html"
    html = custos("ai-act", "annex-iv", "credit-scoring", str(root), "-f", "html", "--out",
                  str(out))  # fmt: skip
    assert html.code == 0, html.err
    text = out.read_text()
    assert text.count("<h2>") == 9
    assert "gap(s) named" in html.err
    spam = custos("ai-act", "annex-iv", "spam-filter", str(root))
    assert "good practice" in spam.out
    bad = custos("ai-act", "annex-iv", "nope", str(root))
    assert bad.code == 2
    assert "Traceback" not in bad.err
    assert custos("ai-act", "annex-iv", "credit-scoring", str(root), "-f", "pdf").code == 2


@pytest.mark.skipif(importlib.util.find_spec("weasyprint") is None, reason="custos[pdf] absent")
def test_annex_iv_as_pdf(tmp_path: Path) -> None:
    root = project(tmp_path / "p")
    out = tmp_path / "annex.pdf"
    done = custos("ai-act", "annex-iv", "credit-scoring", str(root), "-f", "pdf", "--out",
                  str(out))  # fmt: skip
    assert done.code == 0, done.err
    assert out.read_bytes().startswith(b"%PDF")
