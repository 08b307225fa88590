"""Model cards: where one is looked for beside a model, and which of the expected sections
(found by headings, with common synonyms) it lacks. Shared by the `model-card` check and
`custos evaluate`. No I/O here beyond naming candidate paths."""

from __future__ import annotations

import re
from pathlib import Path

SECTIONS: dict[str, tuple[str, ...]] = {
    "intended use": ("intended use", "intended uses", "uses", "purpose", "use cases"),
    "limitations": ("limitations", "known limitations", "caveats", "out-of-scope", "risks"),
    "training data": ("training data", "training dataset", "data", "datasets"),
    "evaluation": ("evaluation", "performance", "metrics", "evaluation results"),
    "ethical considerations": ("ethical considerations", "ethics", "bias", "fairness"),
}
_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+(.+?)\s*#*\s*$", re.MULTILINE)
MAX_CARD_BYTES = 1 << 20


def card_candidates(model: Path) -> list[Path]:
    folder = model if model.is_dir() else model.parent
    stem = model.name if model.is_dir() else model.stem
    names = [f"{stem}.md", f"{stem}.card.md", "MODEL_CARD.md", "model_card.md", "README.md"]
    return [folder / name for name in names]


def missing_sections(text: str) -> list[str]:
    headings = [h.strip().strip("*_ ").casefold() for h in _HEADING.findall(text)]
    missing = []
    for section, synonyms in SECTIONS.items():
        if not any(any(h.startswith(s) for s in synonyms) for h in headings):
            missing.append(section)
    return missing
