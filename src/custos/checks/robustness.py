"""robustness: `custos robustness` as a check on every model asset with `robustness:` set
(docs/assurance.md). The data is the dataset asset `robustness.data` names (its one local file
and its `label` column); the budgets, norm and threshold come from the policy; the number of
points, iterations and seed are the command's defaults.

Custos loads a model only when the organisation vouches for the file: a model without
`trusted: true` is not loaded and the result is `error` (no evidence, never a pass), with a
summary saying so; so is a model the model-file scanner refuses. A PyTorch model is a state
dict plus the asset's `architecture:` entry point (module:callable), imported from the
manifest's folder: the organisation's code, run only for a trusted model. Below the threshold at any
budget fails the check with a high finding per budget.
"""

from __future__ import annotations

from pathlib import Path

from custos.checks.base import Check, CheckContext, Target
from custos.checks.model import Outcome
from custos.errors import UserError
from custos.inventory.locations import expand, is_url

UNTRUSTED = (
    "not measured: the model asset is not marked `trusted: true`, and Custos loads a model to "
    "attack it only when the organisation vouches for the file (then the model-file scanner "
    "must pass it too); nothing was loaded"
)


class Robustness(Check):
    name = "robustness"
    version = 1
    title = "Models keep their required accuracy under adversarial inputs at declared budgets"
    kinds = frozenset({"model"})
    evidences = ("custos:ai:adversarial-robustness", "iso27002:2022:8.29", "euaiact:art15")

    def run(self, target: Target, context: CheckContext) -> Outcome:
        asset = target.asset
        assert asset is not None
        policy = asset.robustness
        if policy is None:
            return Outcome("not_applicable", "no `robustness:` policy on the model asset: set "
                           "its data, eps and min_robust_accuracy to measure it")  # fmt: skip
        if is_url(asset.location):
            return Outcome("not_applicable", "remote model: measure it where it is stored")
        data = next((a for a in target.system.assets if a.id == policy.data), None)
        if data is None or data.kind != "dataset":
            return Outcome("error", f"robustness.data: {policy.data!r} is not a dataset asset "
                           f"of system {target.system.id!r}")  # fmt: skip
        if data.label is None:
            return Outcome("error", f"dataset asset {data.id!r} has no `label:` column to attack")
        if is_url(data.location):
            return Outcome("error", f"dataset asset {data.id!r} is remote; give a local file")
        model_path = _one(context, asset.location, "model")
        data_path = _one(context, data.location, "data")
        if isinstance(model_path, Outcome):
            return model_path
        if isinstance(data_path, Outcome):
            return data_path
        if not asset.trusted:
            return Outcome("error", UNTRUSTED)
        from custos.assurance.robustness import Settings, run

        settings = Settings(eps=tuple(policy.eps), norm=policy.norm,
                            min_robust_accuracy=policy.min_robust_accuracy)  # fmt: skip
        where = (context.where(model_path), context.where(data_path))
        try:
            report = run(model_path, data_path, data.label, settings, trusted=True, where=where,
                         architecture=asset.architecture, project_dir=context.base_dir)  # fmt: skip
        except UserError as exc:
            return Outcome("error", str(exc).replace(f"{context.base_dir}/", ""))
        examined = context.examined([model_path, data_path])
        return Outcome("fail" if report.findings else "pass", report.summary(), report.findings,
                       examined)  # fmt: skip


def _one(context: CheckContext, location: str, what: str) -> Path | Outcome:
    """The one file a location names, or the error saying why there is not one."""
    paths = expand(context.base_dir, location)
    if len(paths) == 1 and paths[0].is_file():
        return paths[0]
    found = "a directory" if len(paths) == 1 else f"{len(paths)} files" if paths else "no file"
    return Outcome("error", f"{location} matches {found}; the robustness check takes one "
                   f"{what} file")  # fmt: skip
