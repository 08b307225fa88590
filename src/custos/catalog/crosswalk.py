"""Following mappings between frameworks, transitively, with the reasoning kept.

Mappings are stored one way (`source <relationship> target`) and read both ways: the inverse of
subset is superset, equal and intersect are symmetric. Along a path, relationships compose by set
theory; a composition that proves nothing (going up to a broader control and back down to another
narrower one: A subset B superset C) is not followed, so a query never reports a link it cannot
justify. Every hit carries the path of control ids it followed and whether it is direct.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from itertools import pairwise

from custos.catalog.catalog import Catalog
from custos.catalog.model import ControlId, Mapping, Relationship

INVERSE: dict[Relationship, Relationship] = {
    "equal": "equal",
    "subset": "superset",
    "superset": "subset",
    "intersect": "intersect",
    "no-relationship": "no-relationship",
}

DEFAULT_DEPTH = 3


def compose(first: Relationship, second: Relationship) -> Relationship | None:
    """Relationship of A to C given A `first` B and B `second` C; None when nothing follows.

    A subset B, B subset C => A subset C; A superset B, B subset C => A and C both contain B,
    so they intersect; A intersect B, B subset C => A intersect C. Anything else is unknown.
    """
    if first == "equal":
        return second
    if second == "equal":
        return first
    if first == second and first in ("subset", "superset"):
        return first
    if first == "superset" and second in ("subset", "intersect"):
        return "intersect"
    if first == "intersect" and second == "subset":
        return "intersect"
    return None


@dataclass(frozen=True)
class Hit:
    """One reachable control: how it relates to the source and by which path."""

    source: ControlId
    target: ControlId | None
    relationship: Relationship
    rationale: str
    path: tuple[ControlId, ...]

    @property
    def direct(self) -> bool:
        return len(self.path) <= 2

    @property
    def depth(self) -> int:
        return max(len(self.path) - 1, 1)


def _edges(catalog: Catalog, node: ControlId) -> list[tuple[ControlId, Relationship, Mapping]]:
    edges: list[tuple[ControlId, Relationship, Mapping]] = []
    for m in catalog.mappings_from(node):
        if m.target is not None and m.relationship != "no-relationship":
            edges.append((m.target, m.relationship, m))
    for m in catalog.mappings_to(node):
        if m.relationship != "no-relationship":
            edges.append((m.source, INVERSE[m.relationship], m))
    return edges


def crosswalk(
    catalog: Catalog,
    control_id: str,
    *,
    to_framework: str | None = None,
    depth: int = DEFAULT_DEPTH,
) -> list[Hit]:
    """Every control reachable from `control_id` within `depth` mapping steps.

    Breadth-first, so each target is reported once, by its shortest justified path. Explicit
    "no counterpart" entries of the source are reported too (target None). `to_framework`
    keeps only targets in that framework (paths may still pass through others).
    """
    source = catalog.control(control_id).id
    target_framework = catalog.framework(to_framework).id if to_framework else None
    if depth < 1:
        return []

    hits: list[Hit] = []
    if target_framework is None:
        for m in catalog.mappings_from(source):
            if m.relationship == "no-relationship":
                hits.append(Hit(source, None, "no-relationship", m.rationale, (source,)))

    best: dict[ControlId, int] = {source: 0}
    queue: deque[tuple[ControlId, Relationship, tuple[ControlId, ...], tuple[str, ...]]] = deque(
        [(source, "equal", (source,), ())]
    )
    while queue:
        node, relation, path, reasons = queue.popleft()
        if len(path) - 1 >= depth:
            continue
        for neighbour, step, mapping in _edges(catalog, node):
            if neighbour in path:
                continue
            combined = step if node == source else compose(relation, step)
            if combined is None:
                continue
            steps = len(path)
            if neighbour in best and best[neighbour] <= steps:
                continue
            best[neighbour] = steps
            new_path = (*path, neighbour)
            new_reasons = (*reasons, mapping.rationale)
            rationale = (
                mapping.rationale
                if steps == 1
                else " | ".join(
                    f"{a} -> {b}: {why}"
                    for a, b, why in zip(new_path[:-1], new_path[1:], new_reasons, strict=True)
                )
            )
            if (
                target_framework is None
                or catalog.controls[neighbour].framework == target_framework
            ):
                hits.append(Hit(source, neighbour, combined, rationale, new_path))
            queue.append((neighbour, combined, new_path, new_reasons))
    hits.sort(
        key=lambda h: (
            h.depth,
            catalog.controls[h.target].framework if h.target else "",
            h.target or "",
        )
    )
    return hits


@dataclass(frozen=True)
class Step:
    """One mapping followed along a path, read in the direction of travel.

    `inverted` is True when the stored mapping runs the other way (`target <stated> source`),
    so `relationship` is the inverse of what its file says.
    """

    source: ControlId
    target: ControlId
    relationship: Relationship
    rationale: str
    mapping_set: str
    inverted: bool


def path_steps(catalog: Catalog, path: tuple[ControlId, ...]) -> tuple[Step, ...]:
    """The mappings behind a crosswalk path, chosen exactly as `crosswalk` chose them.

    At each node the first edge to the next node whose relationship composes with the path so
    far is taken, which is the edge the breadth-first search recorded.
    """
    steps: list[Step] = []
    relation: Relationship = "equal"
    for index, (node, following) in enumerate(pairwise(path)):
        for neighbour, step, mapping in _edges(catalog, node):
            if neighbour != following:
                continue
            combined = step if index == 0 else compose(relation, step)
            if combined is None:
                continue
            relation = combined
            steps.append(
                Step(
                    source=node,
                    target=following,
                    relationship=step,
                    rationale=mapping.rationale,
                    mapping_set=mapping.mapping_set,
                    inverted=mapping.source != node,
                )
            )
            break
        else:
            raise ValueError(f"no mapping links {node} to {following}")
    return tuple(steps)
