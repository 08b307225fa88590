"""What one caller may see of an assessment report: rows about their systems only, rows about
several systems cut to theirs, pooled figures only for callers who see every system. The web
pages and the REST API both go through here, so they cannot disagree. Pure."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from custos.server.rbac import Permission, Principal

Row = dict[str, Any]
READ = Permission.systems_read


def sees_everything(principal: Principal) -> bool:
    return principal.can(READ, "global")


def _shown(item: Row, ids: frozenset[str]) -> Row | None:
    """The item as this caller may see it: rows of one system only if visible; rows of several
    systems with the invisible ones left out (none listed means every system)."""
    if "system" in item:
        return item if item["system"] in ids else None
    systems = item.get("systems")
    if isinstance(systems, list) and systems:
        kept = [s for s in systems if s in ids]
        return {**item, "systems": kept} if kept else None
    return item


RISK_REASON = "risk: "


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

    @property
    def systems(self) -> list[Row]:
        return [s for s in self.report.get("systems") or [] if s.get("id") in self.ids]

    def rows(self, key: str) -> list[Row]:
        found = (_shown(item, self.ids) for item in self.report.get(key) or [])
        return [item for item in found if item is not None]

    def soa(self) -> list[Row]:
        """SoA lines with `per_system` cut to visible systems; the pooled status and owner are
        kept only for callers who see every system, and the risks named as reasons are cut
        to theirs (they would tell about the others)."""
        lines = []
        risks = None if self.everything else {r.get("id") for r in self.rows("risks")}
        for line in self.report.get("soa") or []:
            per = {s: v for s, v in (line.get("per_system") or {}).items() if s in self.ids}
            if risks is None:
                lines.append({**line, "per_system": per})
                continue
            # The reasons name risks and owners of every system: keep the caller's own.
            lines.append({
                **line, "per_system": per, "status": None, "owner": None,
                "justification": _own_risks(line.get("justification") or [], risks),
            })  # fmt: skip
        return lines


def visible_to(principal: Principal, report: Row | None) -> Visible | None:
    return visible_for(principal, report) if report is not None else None


def visible_for(principal: Principal, report: Row) -> Visible:
    scope = principal.system_scope(READ)  # one check, not one per system
    if scope is None:
        return everything(report)
    return Visible(report, system_ids(report) & scope, everything=False)


def everything(report: Row) -> Visible:
    """The report as those who see every system see it."""
    return Visible(report, system_ids(report), everything=True)


def system_ids(report: Row) -> frozenset[str]:
    return frozenset(s["id"] for s in report.get("systems") or [] if isinstance(s, dict))
