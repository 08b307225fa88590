"""The whole mapping table between two frameworks: every reachable pair, direct or derived.

For each control of the source framework, `crosswalk` finds the controls of the target framework
it reaches within `depth` steps. A row is *direct* when one stored mapping links the pair (in
either direction), *derived* when the link passes through intermediate controls, typically Custos
AI requirements; a derived row keeps its path and the mapping behind every step, so a reader can
check each claim. The JSON and CSV shapes here are a contract, documented in
docs/catalog-format.md; the OSCAL form lives in `custos.catalog.oscal_mapping`.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from typing import Any

from custos.catalog.catalog import Catalog
from custos.catalog.crosswalk import DEFAULT_DEPTH, Step, crosswalk, path_steps
from custos.catalog.model import Control, ControlId, Framework, Relationship

CSV_COLUMNS = (
    "source",
    "source_title",
    "target",
    "target_title",
    "relationship",
    "direct",
    "via",
    "mapping_sets",
    "rationale",
)


@dataclass(frozen=True)
class Row:
    """`source <relationship> target`, reached by `path` through the mappings in `steps`."""

    source: Control
    target: Control
    relationship: Relationship
    path: tuple[ControlId, ...]
    steps: tuple[Step, ...]
    rationale: str

    @property
    def direct(self) -> bool:
        return len(self.path) == 2

    @property
    def via(self) -> tuple[ControlId, ...]:
        return self.path[1:-1]

    @property
    def mapping_sets(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(step.mapping_set for step in self.steps))


@dataclass(frozen=True)
class MappingTable:
    source: Framework
    target: Framework
    depth: int
    rows: tuple[Row, ...]
    unmapped: tuple[Control, ...]
    """Controls (not group nodes) of the source framework that reach no target control."""

    @property
    def direct_rows(self) -> int:
        return sum(1 for row in self.rows if row.direct)


def mapping_table(
    catalog: Catalog, from_framework: str, to_framework: str, *, depth: int = DEFAULT_DEPTH
) -> MappingTable:
    """Every (source control, target control) pair linked within `depth` mapping steps.

    Rows follow the source framework's order, then direct before derived, then the target
    framework's order. Raises UnknownIdError for an unknown framework.
    """
    source = catalog.framework(from_framework)
    target = catalog.framework(to_framework)
    order = {cid: index for index, cid in enumerate(target.control_ids)}
    rows: list[Row] = []
    unmapped: list[Control] = []
    for control in catalog.framework_controls(source.id, groups=True):
        found = [
            Row(
                source=control,
                target=catalog.controls[hit.target],
                relationship=hit.relationship,
                path=hit.path,
                steps=path_steps(catalog, hit.path),
                rationale=hit.rationale,
            )
            for hit in crosswalk(catalog, control.id, to_framework=target.id, depth=depth)
            if hit.target is not None
        ]
        found.sort(key=lambda row: (not row.direct, order[row.target.id]))
        rows.extend(found)
        if not found and not control.group:
            unmapped.append(control)
    return MappingTable(source, target, depth, tuple(rows), tuple(unmapped))


# -- JSON and CSV (a contract: docs/catalog-format.md) ---------------------------------------------


def _framework_json(framework: Framework) -> dict[str, Any]:
    return {"id": framework.id, "name": framework.name, "version": framework.version}


def row_json(row: Row) -> dict[str, Any]:
    return {
        "source": row.source.id,
        "source_title": row.source.title,
        "target": row.target.id,
        "target_title": row.target.title,
        "relationship": row.relationship,
        "direct": row.direct,
        "path": list(row.path),
        "via": list(row.via),
        "rationale": row.rationale,
        "steps": [
            {
                "source": step.source,
                "target": step.target,
                "relationship": step.relationship,
                "inverted": step.inverted,
                "mapping_set": step.mapping_set,
                "rationale": step.rationale,
            }
            for step in row.steps
        ],
    }


def table_json(table: MappingTable) -> dict[str, Any]:
    return {
        "from": _framework_json(table.source),
        "to": _framework_json(table.target),
        "depth": table.depth,
        "counts": {
            "rows": len(table.rows),
            "direct": table.direct_rows,
            "derived": len(table.rows) - table.direct_rows,
            "unmapped": len(table.unmapped),
        },
        "rows": [row_json(row) for row in table.rows],
        "unmapped": [control.id for control in table.unmapped],
    }


def table_csv(table: MappingTable) -> str:
    """The rows as CSV with a header line (`direct` is `true` or `false`)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for row in table.rows:
        writer.writerow(
            (
                row.source.id,
                row.source.title,
                row.target.id,
                row.target.title,
                row.relationship,
                "true" if row.direct else "false",
                " -> ".join(row.via),
                " ".join(row.mapping_sets),
                row.rationale,
            )
        )
    return buffer.getvalue()
