"""A model card's Markdown as the facts a CycloneDX 1.6 `modelCard` holds. No I/O.

Sections are found by their headings with the model-card check's synonyms (`SECTIONS`), so a
card that passes the check fills the BOM: "intended use" gives `considerations.useCases`,
"limitations" `considerations.technicalLimitations`, "ethical considerations"
`considerations.ethicalConsiderations` (each item a risk with a name), and a `| metric | value |`
table under "evaluation" `quantitativeAnalysis.performanceMetrics`. One bullet or one paragraph
is one item. Hugging Face style YAML front matter may give the task (`pipeline_tag` or `task`)
and dataset names (`datasets`). Nothing is guessed: what the card does not say is left out.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import yaml

from custos.assurance.model_cards import SECTIONS

_HEADING = re.compile(r"^\s{0,3}(#{1,6})\s+(.+?)\s*#*\s*$")
_FENCE = re.compile(r"^\s{0,3}(```|~~~)")
_BULLET = re.compile(r"^\s{0,3}(?:[-*+]|\d{1,3}[.)])\s+(.*)$")
_RULE = re.compile(r"^\s{0,3}([-*_])(\s*\1){2,}\s*$")
_SEPARATOR_CELL = re.compile(r"^:?-{1,}:?$")
_METRIC_HEADERS = ("metric", "metrics", "measure")
_VALUE_HEADERS = ("value", "score", "result")
_SLICE_HEADERS = ("slice", "subset", "segment", "group")


@dataclass(frozen=True)
class Metric:
    type: str
    value: str
    slice: str | None = None


@dataclass(frozen=True)
class CardFacts:
    """What a model card says, in the terms of a CycloneDX modelCard."""

    use_cases: tuple[str, ...] = ()
    limitations: tuple[str, ...] = ()
    ethical: tuple[str, ...] = ()
    metrics: tuple[Metric, ...] = ()
    training_data: str = ""  # the training-data section's text: where datasets are named
    task: str | None = None
    datasets: tuple[str, ...] = ()  # front matter `datasets:` entries


@dataclass(frozen=True)
class _Section:
    name: str  # the SECTIONS key, e.g. "intended use"
    lines: tuple[str, ...]


def read_card(text: str) -> CardFacts:
    """The facts of one model card (Markdown, optionally with YAML front matter)."""
    front, body = _front_matter(text)
    sections = list(_sections(body.splitlines()))

    def lines_of(name: str) -> list[str]:
        return [line for s in sections if s.name == name for line in s.lines]

    datasets = front.get("datasets")
    named = [datasets] if isinstance(datasets, str) else datasets
    return CardFacts(
        use_cases=tuple(_items(lines_of("intended use"))),
        limitations=tuple(_items(lines_of("limitations"))),
        ethical=tuple(_items(lines_of("ethical considerations"))),
        metrics=tuple(_metrics(lines_of("evaluation"))),
        training_data="\n".join(lines_of("training data")),
        task=_scalar(front.get("pipeline_tag", front.get("task"))),
        datasets=tuple(
            d for d in (_scalar(x) for x in (named if isinstance(named, list) else ())) if d
        ),
    )


def _scalar(value: object) -> str | None:
    """A front-matter value as text, or None when it is missing, empty or not a scalar."""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        return None
    return str(value).strip() or None


def model_card_json(
    facts: CardFacts | None,
    dataset_refs: Sequence[str] = (),
    architecture_family: str | None = None,
    architecture: str | None = None,
) -> dict[str, Any] | None:
    """A CycloneDX 1.6 `modelCard` object from what is known, or None when nothing is."""
    facts = facts or CardFacts()
    params: dict[str, Any] = {}
    if facts.task:
        params["task"] = facts.task
    if architecture_family:
        params["architectureFamily"] = architecture_family
    if architecture:
        params["modelArchitecture"] = architecture
    if dataset_refs:
        params["datasets"] = [{"ref": ref} for ref in dataset_refs]
    card: dict[str, Any] = {}
    if params:
        card["modelParameters"] = params
    if facts.metrics:
        card["quantitativeAnalysis"] = {"performanceMetrics": [_metric(m) for m in facts.metrics]}
    considerations: dict[str, Any] = {}
    if facts.use_cases:
        considerations["useCases"] = list(facts.use_cases)
    if facts.limitations:
        considerations["technicalLimitations"] = list(facts.limitations)
    if facts.ethical:
        considerations["ethicalConsiderations"] = [{"name": item} for item in facts.ethical]
    if considerations:
        card["considerations"] = considerations
    return card or None


def _metric(metric: Metric) -> dict[str, str]:
    out = {"type": metric.type, "value": metric.value}
    if metric.slice:
        out["slice"] = metric.slice
    return out


def mentions(text: str, name: str) -> bool:
    """Whether `name` (an asset id, a path or a file name) appears in `text` as a whole token:
    `data/x.csv` and `x.csv.` mention `x.csv`; `x.csv.gz` and `my-x.csv` do not."""
    return (
        bool(name) and re.search(rf"(?<![\w.-]){re.escape(name)}(?![\w/-]|\.\w)", text) is not None
    )


# -- Markdown ------------------------------------------------------------------------------------


def _front_matter(text: str) -> tuple[dict[str, Any], str]:
    """(YAML front matter as a mapping, the rest); ({}, text) when there is none or it is not a
    mapping, so a card with a broken header still gives its sections."""
    lines = text.splitlines(keepends=True)
    if not lines or lines[0].strip() != "---":
        return {}, text
    for index in range(1, len(lines)):
        if lines[index].strip() in ("---", "..."):
            try:
                data = yaml.safe_load("".join(lines[1:index]))
            except yaml.YAMLError:
                return {}, text
            rest = "".join(lines[index + 1 :])
            return (data, rest) if isinstance(data, dict) else ({}, rest)
    return {}, text


def _section_name(title: str) -> str | None:
    heading = title.strip().strip("*_ ").casefold()
    for name, synonyms in SECTIONS.items():
        if any(heading.startswith(s) for s in synonyms):
            return name
    return None


def _sections(lines: list[str]) -> Iterator[_Section]:
    """Each recognised section with its lines, up to the next heading of the same or a higher
    level (sub-headings stay inside, so "## Evaluation / ### Results" keeps its table)."""
    headings: list[tuple[int, int, str]] = []  # (line index, level, title)
    fenced = False
    for index, line in enumerate(lines):
        if _FENCE.match(line):
            fenced = not fenced
            continue
        match = None if fenced else _HEADING.match(line)
        if match:
            headings.append((index, len(match.group(1)), match.group(2)))
    for position, (index, level, title) in enumerate(headings):
        name = _section_name(title)
        if name is None:
            continue
        end = next((i for i, lvl, _ in headings[position + 1 :] if lvl <= level), len(lines))
        yield _Section(name, tuple(lines[index + 1 : end]))


def _items(lines: Iterable[str]) -> Iterator[str]:
    """Bullets and paragraphs, whitespace collapsed; headings, tables, code and rules skipped."""
    current: list[str] = []
    fenced = False

    def flush() -> Iterator[str]:
        text = " ".join(" ".join(current).split())
        current.clear()
        if text:
            yield text

    for line in lines:
        if _FENCE.match(line):
            yield from flush()
            fenced = not fenced
            continue
        if fenced:
            continue
        stripped = line.strip()
        if not stripped or _HEADING.match(line) or _RULE.match(line) or stripped.startswith("|"):
            yield from flush()
            continue
        bullet = _BULLET.match(line)
        if bullet:
            yield from flush()
            current.append(bullet.group(1))
        else:
            current.append(stripped)
    yield from flush()


def _table_rows(lines: Iterable[str]) -> Iterator[list[list[str]]]:
    """Each pipe table as its rows of cells (the separator row dropped)."""
    table: list[list[str]] = []
    for line in [*lines, ""]:
        stripped = line.strip()
        if stripped.startswith("|"):
            cells = [c.strip() for c in stripped.strip("|").split("|")]
            if not all(_SEPARATOR_CELL.match(c) for c in cells if c):
                table.append(cells)
        elif table:
            yield table
            table = []


def _metrics(lines: list[str]) -> Iterator[Metric]:
    for table in _table_rows(lines):
        header = [cell.strip("*_` ").casefold() for cell in table[0]]
        metric = _column(header, _METRIC_HEADERS)
        value = _column(header, _VALUE_HEADERS)
        if metric is None or value is None:
            continue
        where = _column(header, _SLICE_HEADERS)
        for row in table[1:]:
            if max(metric, value) >= len(row) or not row[metric] or not row[value]:
                continue
            part = row[where] if where is not None and where < len(row) else None
            yield Metric(row[metric], row[value], part or None)


def _column(header: list[str], names: tuple[str, ...]) -> int | None:
    return next((i for i, cell in enumerate(header) if cell in names), None)
