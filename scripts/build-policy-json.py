"""Regenerate src/custos/modelfile/data/policy.json from policy.yaml (the file people edit).

The scanner loads the JSON copy: PyYAML's import alone costs more than a whole `custos
scan-model` of a PyTorch archive otherwise spends. tests/modelfile/test_policy.py fails when the
two differ. Run: .venv/bin/python scripts/build-policy-json.py
"""

from __future__ import annotations

import json
from pathlib import Path

import yaml

DATA = Path(__file__).resolve().parents[1] / "src" / "custos" / "modelfile" / "data"

if __name__ == "__main__":
    policy = yaml.safe_load((DATA / "policy.yaml").read_text(encoding="utf-8"))
    text = json.dumps(policy, ensure_ascii=False, separators=(",", ":")) + "\n"
    (DATA / "policy.json").write_text(text, encoding="utf-8")
    print(f"wrote {DATA / 'policy.json'}")
