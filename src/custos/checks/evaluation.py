"""evaluation: a model asset with `evaluation:` in custos.yaml is validated on its held-out set
(the dataset asset `evaluation.data` names, with its `label`): metrics against
`evaluation.minimums` / `max_rmse`, the fairness gap of `evaluation.subgroups` against
`max_fairness_gap`, permutation importance compared with the model card's decisive features,
and the card's completeness (custos.assurance.evaluation*, docs/assurance.md).

The model must be `trusted: true`: Custos loads a model only when the organisation vouches for
the file and the model-file scanner passes it. An untrusted model, one the scanner refuses, or
held-out data that cannot be used is an `error` (never a pass: the evaluation did not happen),
with the reason; findings fail the check. The evidence keeps the digests of the model, the
data and the card, and the measured figures, library versions and what the scanner said as
further lines of what was examined.
"""

from __future__ import annotations

from pathlib import Path

from custos.assurance.evaluation_extra import MISSING_EXTRA, available
from custos.checks.base import Check, CheckContext, Target
from custos.checks.model import Examined, Outcome
from custos.errors import UserError
from custos.inventory.locations import expand, is_url
from custos.inventory.schema import Asset, EvaluationPolicy, Manifest

UNTRUSTED = (
    "not evaluated: the model is not marked `trusted: true` in custos.yaml; Custos loads a "
    "model to measure it only when the organisation vouches for the file and the model-file "
    "scanner passes it"
)


class Evaluation(Check):
    name = "evaluation"
    version = 1
    title = "Models meet their declared performance and fairness criteria, explained and documented"
    kinds = frozenset({"model"})
    evidences = (
        "custos:ai:model-validation",
        "custos:ai:explainability",
        "custos:ai:model-documentation",
        "iso27002:2022:8.29",
        "euaiact:art15",
        "euaiact:art13",
    )

    def run(self, target: Target, context: CheckContext) -> Outcome:
        asset = target.asset
        assert asset is not None
        policy = asset.evaluation
        if policy is None:
            return Outcome("not_applicable", "no `evaluation:` declared for this model")
        if is_url(asset.location):
            return Outcome("error", "remote model: Custos evaluates model files it can read")
        models = expand(context.base_dir, asset.location)
        if len(models) != 1 or not models[0].is_file():
            found = "matches no file" if not models else f"matches {len(models)} paths"
            return Outcome("error", f"{asset.location} {found}; evaluation needs one model file")
        model = models[0]
        if not asset.trusted:
            return Outcome("error", UNTRUSTED, examined=context.examined([model]))
        held_out = _held_out(context, policy)
        if isinstance(held_out, str):
            return Outcome("error", held_out, examined=context.examined([model]))
        if not available():
            return Outcome("error", MISSING_EXTRA)
        return _evaluate(asset, policy, model, held_out, context)


def _held_out(context: CheckContext, policy: EvaluationPolicy) -> tuple[Path, str] | str:
    """The held-out data file and its label column, or why there are none."""
    dataset = _asset(context.manifest, policy.data)
    if dataset is None or dataset.kind != "dataset":
        return f"evaluation.data: {policy.data!r} is not a dataset asset in custos.yaml"
    if dataset.label is None:
        return f"dataset {dataset.id!r} declares no `label:` column to evaluate against"
    if is_url(dataset.location):
        return f"dataset {dataset.id!r} is remote; evaluation needs a local file"
    paths = expand(context.base_dir, dataset.location)
    if len(paths) != 1 or not paths[0].is_file():
        found = "matches no file" if not paths else f"matches {len(paths)} paths"
        return f"dataset {dataset.id!r}: {dataset.location} {found}; evaluation needs one"
    return paths[0], dataset.label


def _evaluate(
    asset: Asset,
    policy: EvaluationPolicy,
    model: Path,
    held_out: tuple[Path, str],
    context: CheckContext,
) -> Outcome:
    from custos.assurance.evaluation import Policy
    from custos.assurance.evaluation_card import card_fields
    from custos.assurance.evaluation_report import evaluate
    from custos.assurance.model_cards import SECTIONS, card_candidates

    data, label = held_out
    card = next((c for c in card_candidates(model) if c.is_file()), None)
    judged = Policy(
        {str(k): v for k, v in policy.minimums.items()}, policy.max_rmse, policy.max_fairness_gap
    )
    inputs = context.examined([model, data, *([card] if card else [])])
    try:
        report = evaluate(
            model, data, label, trusted=asset.trusted, subgroups=policy.subgroups,
            policy=judged, card=card, expected_card=f"{model.stem}.md or MODEL_CARD.md",
            fields=card_fields(SECTIONS), display=context.where,
        )  # fmt: skip
    except UserError as exc:
        message = str(exc).replace(f"{context.base_dir}/", "")
        return Outcome("error", f"not evaluated: {message}", examined=inputs)
    figures = tuple(Examined(line) for line in report.figures())
    if report.findings:
        return Outcome("fail", report.summary(), report.findings, (*inputs, *figures))
    return Outcome("pass", report.summary(), (), (*inputs, *figures))


def _asset(manifest: Manifest, asset_id: str) -> Asset | None:
    return next((a for s in manifest.systems for a in s.assets if a.id == asset_id), None)
