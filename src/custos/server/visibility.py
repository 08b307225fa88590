"""What one caller may see of an assessment report: rows about their systems only, rows about
several systems ("pooled" rows) cut to theirs, pooled figures only for callers who see every
system. The web pages and the REST API both go through here, so they cannot disagree. Pure.

A pooled row cut to the caller's systems must not keep anything the hidden systems brought
in: their ids, risk ids, asset ids, owners, or a figure summed or maxed over them. Such fields
are recomputed from the visible part, or dropped when they cannot be (red team, issue 13:
"pooled rows across a system boundary").
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, TypeVar, cast

from custos.server.rbac import Permission, Principal

Row = dict[str, Any]
T = TypeVar("T")
READ = Permission.systems_read
RISK_REASON = "risk: "
EXCLUDED = "excluded: "
DONE = frozenset({"implemented", "not_applicable"})
# How the roadmap's effort estimate moves with a gap's status (custos.assess.plan._effort).
EFFORT_STEP = {"partial": -1, "not_implemented": 1}


def sees_everything(principal: Principal) -> bool:
    return principal.can(READ, "global")


def _shown(item: Row, ids: frozenset[str]) -> Row | None:
    """The item as this caller may see it: rows of one system only if visible; rows of several
    systems with the invisible ones left out (none listed means every system). The item itself
    when nothing is left out."""
    if "system" in item:
        return item if item["system"] in ids else None
    systems = item.get("systems")
    if isinstance(systems, list) and systems:
        kept = [s for s in systems if s in ids]
        if not kept:
            return None
        return item if len(kept) == len(systems) else {**item, "systems": kept}
    return item


def _own_risks(justification: list[str], risks: set[Any]) -> list[str]:
    """The SoA's reasons with the `risk: a, b` one cut to the visible risks (gone if none)."""
    kept = []
    for reason in justification:
        if reason.startswith(RISK_REASON):
            ids = [r for r in reason[len(RISK_REASON) :].split(", ") if r in risks]
            if ids:
                kept.append(RISK_REASON + ", ".join(ids))
        else:
            kept.append(reason)
    return kept


@dataclass(frozen=True)
class Visible:
    """The latest report as one caller may see it."""

    report: Row
    ids: frozenset[str]  # visible system ids
    everything: bool  # the caller sees every system (pooled scores are theirs to see)
    # asset id -> the system owning it (the inventory's): cuts a risk's asset list
    asset_systems: Mapping[str, str | None] = field(default_factory=dict)

    @property
    def systems(self) -> list[Row]:
        return [s for s in self.report.get("systems") or [] if s.get("id") in self.ids]

    @property
    def score(self) -> float | None:
        """The overall score for callers who see every system; for the others, the mean of
        their systems' scores (the pooled one would tell about the rest)."""
        if self.everything:
            found = self.report.get("overall_score")
            return float(found) if isinstance(found, int | float) else None
        scores = [s["score"] for s in self.systems if isinstance(s.get("score"), int | float)]
        return sum(scores) / len(scores) if scores else None

    # A view is kept per assessment and set of visible systems (custos.server.latest_view), so
    # what it derives is worked out once for every request of that caller and assessment. The
    # returned lists and rows are shared: callers must not change them.
    _memo: dict[Any, Any] = field(default_factory=dict, compare=False, repr=False)
    _lock: threading.RLock = field(default_factory=threading.RLock, compare=False, repr=False)

    def _once(self, key: Any, compute: Callable[[], T]) -> T:
        if key in self._memo:
            return cast(T, self._memo[key])
        with self._lock:  # one computation when many requests ask together
            if key not in self._memo:
                self._memo[key] = compute()
            return cast(T, self._memo[key])

    def rows(self, key: str) -> list[Row]:
        """The rows under `key` the caller may see; pooled rows cut to their systems."""
        return self._once(("rows", key), lambda: self._cut_rows(key))

    def statuses(self, control_id: str) -> dict[str, Row]:
        """One control's status row per visible system."""
        index = self._once("statuses", self._statuses_by_control)
        return index.get(control_id, {})

    def _statuses_by_control(self) -> dict[str, dict[str, Row]]:
        index: dict[str, dict[str, Row]] = {}
        for row in self.rows("controls"):
            index.setdefault(row["id"], {})[row["system"]] = row
        return index

    def _cut_rows(self, key: str) -> list[Row]:
        found = []
        for item in self.report.get(key) or []:
            shown = _shown(item, self.ids)
            if shown is not None and shown is not item:
                shown = CUTS.get(key, _as_is)(self, item, shown)
            if shown is not None:
                found.append(shown)
        return found

    def soa(self) -> list[Row]:
        """SoA lines with `per_system` cut to visible systems; the pooled status and owner are
        kept only for callers who see every system, the risks named as reasons are cut to
        theirs, and the exclusion text is their systems' own (the others' would tell)."""
        return self._once("soa", self._soa)

    def _soa(self) -> list[Row]:
        lines = []
        risks = None if self.everything else {r.get("id") for r in self.rows("risks")}
        for line in self.report.get("soa") or []:
            per = {s: v for s, v in (line.get("per_system") or {}).items() if s in self.ids}
            if risks is None:
                lines.append({**line, "per_system": per})
                continue
            # The reasons name risks and owners of every system, the exclusion text joins
            # every system's exclusions: keep the caller's own, recompute applicability.
            applicable = any(v != "not_applicable" for v in per.values())
            reasons = _own_risks(line.get("justification") or [], risks) if applicable else []
            exclusion = "; ".join(self._exclusions.get(line.get("control"), [])) or None
            lines.append({
                **line, "per_system": per, "status": None, "owner": None,
                "exclusion": exclusion, "applicable": applicable, "justification": reasons,
            })  # fmt: skip
        return lines

    # -- pooled rows cut to the visible systems ------------------------------------------
    # Indexes over the whole report, built once per view and only when a row needs cutting.

    @cached_property
    def _gaps(self) -> dict[Any, list[Row]]:
        by_control: dict[Any, list[Row]] = {}
        for gap in self.report.get("gaps") or []:
            by_control.setdefault(gap.get("control"), []).append(gap)
        return by_control

    @cached_property
    def _owners(self) -> dict[tuple[str, Any], Any]:
        """("risk" | "system", id) -> owner."""
        risks = {("risk", r.get("id")): r.get("owner") for r in self.report.get("risks") or []}
        systems = self.report.get("systems") or []
        return {**risks, **{("system", s.get("id")): s.get("owner") for s in systems}}

    @cached_property
    def _status(self) -> dict[tuple[Any, Any], Any]:
        return {(c.get("system"), c.get("id")): c.get("status") for c in self._controls}

    @cached_property
    def _exclusions(self) -> dict[Any, list[str]]:
        """control -> the justifications of the exclusions of the visible systems, as their
        status rows give them (custos.assess.engine: "excluded: <justification>")."""
        found: dict[Any, list[str]] = {}
        for row in self._controls:
            if row.get("system") not in self.ids:
                continue
            for reason in row.get("reasons") or []:
                text = str(reason.get("text") or "")
                if reason.get("kind") == "exclusion" and text.startswith(EXCLUDED):
                    texts = found.setdefault(row.get("id"), [])
                    if text[len(EXCLUDED) :] not in texts:
                        texts.append(text[len(EXCLUDED) :])
        return found

    @property
    def _controls(self) -> list[Row]:
        return self.report.get("controls") or []

    def _proposed_owner(self, gaps: list[Row]) -> Any:
        """The owner the roadmap proposes for these gaps (custos.assess.plan.build_roadmap):
        the first of their risks with an owner, else the first gap's system's owner."""
        risks = sorted({r for g in gaps for r in g.get("risks") or []})
        owner = next((o for r in risks if (o := self._owners.get(("risk", r)))), None)
        if owner is None and gaps:
            owner = self._owners.get(("system", gaps[0].get("system")))
        return owner

    def _roadmap_item(self, item: Row, shown: Row) -> Row:
        """A roadmap item of several systems cut to the visible ones: the risks, risk
        reduction, effort and proposed owner recomputed from their gaps alone. An owner
        decided for the control (an assignment) is the organisation's plan and stays."""
        every = self._gaps.get(item.get("control"), [])
        mine = [g for g in every if g.get("system") in self.ids]
        owner = item.get("owner")
        if owner == self._proposed_owner(every):
            owner = self._proposed_owner(mine)
        # effort = a per-control base moved by the worst status's step: take the base out of
        # the pooled effort and put the visible gaps' worst step back.
        steps = [EFFORT_STEP.get(str(g.get("status")), 0) for g in every]
        mine_steps = [EFFORT_STEP.get(str(g.get("status")), 0) for g in mine]
        effort = item.get("effort")
        if isinstance(effort, int) and steps and mine_steps:
            effort = max(1, min(5, effort - max(steps) + max(mine_steps)))
        return _with(
            shown,
            risks=sorted({r for g in mine for r in g.get("risks") or []}),
            risk_reduction=sum(int(g.get("risk_score") or 0) for g in mine) + len(mine),
            effort=effort,
            owner=owner,
        )

    def _risk_row(self, item: Row, shown: Row) -> Row:
        """A risk of several systems cut to the visible ones: their assets only, and the
        chosen controls still open on them (not on the others)."""
        systems = shown["systems"]
        assets = [a for a in item.get("assets") or [] if self.asset_systems.get(a) in self.ids]
        open_controls = [
            c
            for c in item.get("controls") or []
            if any(self._status.get((s, c)) not in DONE for s in systems)
        ]
        return _with(shown, assets=assets, open_controls=open_controls)


def _with(shown: Row, **recomputed: Any) -> Row:
    """The row with the fields it has replaced by their recomputed values."""
    return {**shown, **{k: v for k, v in recomputed.items() if k in shown}}


def _as_is(_visible: Visible, _item: Row, shown: Row) -> Row:
    return shown


# What else a pooled row of each kind carries about its systems; rows of one system (findings,
# evidence, controls, gaps) are shown whole or not at all, attestations name only their
# systems (cut by `_shown`).
CUTS: dict[str, Callable[[Visible, Row, Row], Row | None]] = {
    "roadmap": Visible._roadmap_item,
    "risks": Visible._risk_row,
}


def visible_for(
    principal: Principal, report: Row, asset_systems: Mapping[str, str | None] | None = None
) -> Visible:
    """What `principal` may see of `report`; `asset_systems` (asset id -> owning system) lets
    a shared risk keep the caller's assets (without it, a cut risk lists none)."""
    scope = principal.system_scope(READ)  # one check, not one per system
    if scope is None:
        return everything(report)
    return Visible(report, system_ids(report) & scope, everything=False,
                   asset_systems=asset_systems or {})  # fmt: skip


def everything(report: Row) -> Visible:
    """The report as those who see every system see it."""
    return Visible(report, system_ids(report), everything=True)


def system_ids(report: Row) -> frozenset[str]:
    return frozenset(s["id"] for s in report.get("systems") or [] if isinstance(s, dict))


def cut_document(
    body: Mapping[str, Any], ids: frozenset[str], asset_systems: Mapping[str, str | None]
) -> dict[str, Any]:
    """An inventory document (a risk, attestation or exclusion naming several systems) as a
    caller who sees only `ids` may see it: the other systems, and the assets they own, left
    out. Such callers cannot write these documents, so no cut copy is ever saved back."""
    cut = dict(body)
    if isinstance(body.get("systems"), list):
        cut["systems"] = [s for s in body["systems"] if s in ids]
    if isinstance(body.get("assets"), list):
        cut["assets"] = [a for a in body["assets"] if asset_systems.get(a) in ids]
    return cut
