"""Every rule the scanner can emit is documented in docs/model-scanner.md with its severity,
and the dispatcher's list of compressed formats matches the decompressor's."""

from __future__ import annotations

import re
from pathlib import Path

from custos.modelfile.containers import compress_scan
from custos.modelfile.dispatch import COMPRESSED, load_all_rules
from custos.modelfile.rules import RULES

DOC = Path(__file__).resolve().parents[2] / "docs" / "model-scanner.md"


def test_every_rule_is_documented_with_its_severity() -> None:
    load_all_rules()
    table = dict(
        re.findall(r"^\| <a id=\"[^\"]+\"></a>`([^`]+)` \| (\w+) \|", DOC.read_text(), re.M)
    )
    missing = {r for r in RULES if r not in table and not r.startswith("test/")}
    assert not missing, f"undocumented rules: {sorted(missing)}"
    wrong = {
        r: (table[r], RULES[r].severity.name)
        for r in RULES
        if r in table and table[r] != RULES[r].severity.name
    }
    assert not wrong, wrong
    assert not set(table) - set(RULES), "documented rules that do not exist"


def test_compressed_formats_agree() -> None:
    assert set(COMPRESSED) == set(compress_scan.FORMATS)
