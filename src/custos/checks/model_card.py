"""model-card: each model has a model card next to it with the sections users expect.

A card is a Markdown file beside the model: `<model stem>.md`, `<model stem>.card.md`,
`MODEL_CARD.md`, `model_card.md` or `README.md` (in the model's directory, or inside it when the
model is a directory). Sections are found by headings, with common synonyms.
"""

from __future__ import annotations

from pathlib import Path

from custos._hashing import sha256_file
from custos.assurance.model_cards import MAX_CARD_BYTES, card_candidates, missing_sections
from custos.checks.base import Check, CheckContext, Target
from custos.checks.model import Examined, Finding, Outcome, Severity
from custos.inventory.locations import expand, is_url


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
