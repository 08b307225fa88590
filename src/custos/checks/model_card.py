"""model-card: each model has a model card next to it with the sections users expect.

A card is a Markdown file beside the model: `<model stem>.md`, `<model stem>.card.md`,
`MODEL_CARD.md`, `model_card.md` or `README.md` (in the model's directory, or inside it when the
model is a directory). Sections are found by headings, with common synonyms.
"""

from __future__ import annotations

import re
from pathlib import Path

from custos._hashing import sha256_file
from custos.checks.base import Check, CheckContext, Target
from custos.checks.model import Examined, Finding, Outcome, Severity
from custos.inventory.locations import expand, is_url

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


class ModelCard(Check):
    name = "model-card"
    version = 1
    title = "Models are documented by a complete model card"
    kinds = frozenset({"model"})
    evidences = ("custos:ai:model-documentation",)

    def run(self, target: Target, context: CheckContext) -> Outcome:
        asset = target.asset
        assert asset is not None
        if is_url(asset.location):
            return Outcome("not_applicable", "model is remote; its card cannot be read here")
        models = expand(context.base_dir, asset.location)
        if not models:
            return Outcome("error", f"{asset.location} matches no file, so no card can be checked")
        findings: list[Finding] = []
        examined: list[Examined] = []
        for model in models:
            rel = _relative(model, context.base_dir)
            card = next((c for c in card_candidates(model) if c.is_file()), None)
            if card is None:
                findings.append(
                    Finding(
                        "model-card/missing",
                        Severity.medium,
                        f"no model card next to {rel} (expected {model.stem}.md or MODEL_CARD.md)",
                        rel,
                    )
                )
                continue
            card_rel = _relative(card, context.base_dir)
            examined.append(Examined(card_rel, sha256_file(card), card.stat().st_size))
            with card.open("rb") as handle:
                text = handle.read(MAX_CARD_BYTES).decode("utf-8", errors="replace")
            for section in missing_sections(text):
                findings.append(
                    Finding(
                        "model-card/missing-section",
                        Severity.low,
                        f"model card {card_rel} has no '{section}' section",
                        card_rel,
                    )
                )
        if findings:
            return Outcome(
                "fail", f"{len(findings)} model card gap(s)", tuple(findings), tuple(examined)
            )
        return Outcome("pass", f"{len(examined)} complete model card(s)", (), tuple(examined))


def _relative(path: Path, base: Path) -> str:
    try:
        return path.relative_to(base).as_posix()
    except ValueError:
        return str(path)
