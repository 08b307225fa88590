"""Cross-references inside a manifest that need no disk: unique ids, and every system, asset,
threat and control a risk, attestation, exclusion or assignment names must exist. Pure.

`custos.yaml` loading turns the paths into file lines; the server checks an inventory kept in
its database with the same rules, so the two cannot disagree on what a valid manifest is.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator

from custos.catalog.catalog import Catalog
from custos.inventory.schema import Manifest

THREAT_FRAMEWORKS = frozenset({"mitre-atlas", "owasp-ml", "owasp-llm"})

Where = list[str | int]  # the path to the offending value, e.g. ["risks", 2, "assets", 0]
Problem = tuple[Where, str]


def _duplicates(values: Iterable[str]) -> set[str]:
    return {value for value, count in Counter(values).items() if count > 1}


def reference_problems(manifest: Manifest, catalog: Catalog) -> Iterator[Problem]:
    """Every broken or duplicate reference, in document order."""
    system_ids = [s.id for s in manifest.systems]
    asset_ids = [a.id for s in manifest.systems for a in s.assets]
    twice_systems, twice_assets = _duplicates(system_ids), _duplicates(asset_ids)
    for index, system in enumerate(manifest.systems):
        if system.id in twice_systems:
            yield ["systems", index, "id"], f"duplicate system id {system.id!r}"
        for a_index, asset in enumerate(system.assets):
            if asset.id in twice_assets:
                yield (
                    ["systems", index, "assets", a_index, "id"],
                    f"duplicate asset id {asset.id!r}; asset ids must be unique in the file",
                )
    known_systems, known_assets = set(system_ids), set(asset_ids)
    datasets = {a.id: a for s in manifest.systems for a in s.assets if a.kind == "dataset"}
    for index, system in enumerate(manifest.systems):
        for a_index, asset in enumerate(system.assets):
            for field in ("robustness", "evaluation"):
                policy = getattr(asset, field)
                if policy is None:
                    continue
                at: Where = ["systems", index, "assets", a_index, field, "data"]
                data = datasets.get(policy.data)
                if data is None:
                    yield at, f"{policy.data!r} is not a dataset asset of the manifest"
                elif data.label is None:
                    yield at, (f"dataset {policy.data!r} has no `label:`; the {field} check "
                                  "needs the label column")  # fmt: skip

    def control_exists(ref: str, where: Where, what: str) -> Iterator[Problem]:
        if ref not in catalog.controls:
            yield where, f"unknown {what} {ref!r}; see `custos catalog search`"

    def systems_exist(systems: Iterable[str], base: Where) -> Iterator[Problem]:
        for s_index, system_id in enumerate(systems):
            if system_id not in known_systems:
                yield [*base, "systems", s_index], f"unknown system {system_id!r}"

    twice_risks = _duplicates(r.id for r in manifest.risks)
    for index, risk in enumerate(manifest.risks):
        base: Where = ["risks", index]
        if risk.id in twice_risks:
            yield [*base, "id"], f"duplicate risk id {risk.id!r}"
        for t_index, threat in enumerate(risk.threats):
            where: Where = [*base, "threats", t_index]
            if threat not in catalog.controls:
                yield from control_exists(threat, where, "threat id")
            elif catalog.control(threat).framework not in THREAT_FRAMEWORKS:
                yield where, f"{threat!r} is not a threat; use an ATLAS technique or an OWASP entry"
        for c_index, control in enumerate(risk.controls):
            yield from control_exists(control, [*base, "controls", c_index], "control id")
        yield from systems_exist(risk.systems, base)
        for a_index, asset_id in enumerate(risk.assets):
            if asset_id not in known_assets:
                yield [*base, "assets", a_index], f"unknown asset {asset_id!r}"

    twice_attestations = _duplicates(a.id for a in manifest.attestations)
    for index, att in enumerate(manifest.attestations):
        base = ["attestations", index]
        if att.id in twice_attestations:
            yield [*base, "id"], f"duplicate attestation id {att.id!r}"
        yield from control_exists(att.control, [*base, "control"], "control id")
        yield from systems_exist(att.systems, base)

    for index, exclusion in enumerate(manifest.exclusions):
        base = ["exclusions", index]
        yield from control_exists(exclusion.control, [*base, "control"], "control id")
        yield from systems_exist(exclusion.systems, base)

    twice_assigned = _duplicates(a.control for a in manifest.assignments)
    for index, assignment in enumerate(manifest.assignments):
        where = ["assignments", index, "control"]
        yield from control_exists(assignment.control, where, "control id")
        if assignment.control in twice_assigned:
            yield where, f"{assignment.control!r} is assigned twice; keep one assignment"
