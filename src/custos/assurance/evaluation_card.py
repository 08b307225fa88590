"""The model card against the measurements: completeness, decisive features, a snippet.

Completeness: the card needs each field of `card_fields` as a heading: the model-card check's
SECTIONS (intended use, limitations, training data, evaluation, ethical considerations, each
with its synonyms) plus "owners" (OWNERS). A heading counts when it starts with a synonym,
case-insensitively, as in the model-card check; headings inside code fences do not count.

Decisive features: the first heading that starts with one of DECISIVE ("decisive features",
"important features", "key features", "feature importance", ...) opens the section, which runs
to the next heading of the same or a higher level. The features it names are its list items
(each item's first `code` span, else its text before ':', ' - ', '(' or ','), and the first
cell of each table row (header row skipped); an item that is not a feature name but mentions
exactly one feature as a word names that one. A section with neither: the model's features
mentioned in its text. Compared with the measured top k (k = max(TOP_K, documented count);
features under DECISIVE_SHARE of the importance do not count), two findings (medium):

- `evaluation/card-feature-not-decisive`: the card names a feature the measurement does not
  find among the top k (or one the model does not have);
- `evaluation/card-feature-undocumented`: a measured top feature with at least LARGE_SHARE of
  the importance that the section does not name.

`snippet` writes the measured figures as Markdown to paste into the card's Evaluation section.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from custos.assurance.evaluation import (
    DECISIVE_SHARE,
    DOCUMENTATION,
    EXPLANATION,
    TOP_K,
    Explanation,
    Measured,
    Policy,
)
from custos.findings import Finding, Severity

OWNERS = ("owners", "owner", "model owners", "maintainers", "maintainer", "contact",
          "contacts", "authors", "responsible")  # fmt: skip
DECISIVE = ("decisive features", "important features", "most important features",
            "key features", "feature importance", "feature importances", "top features",
            "influential features", "main features", "key drivers", "main drivers")  # fmt: skip
LARGE_SHARE = 0.2
MAX_CARD_BYTES = 1 << 20
_HEADING = re.compile(r"^\s{0,3}(#{1,6})\s+(.+?)\s*#*\s*$")
_ITEM = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+(.+)$")
_SEPARATOR = re.compile(r"^:?-{3,}:?$")
_SPLIT = re.compile(r":| - | \u2013 | \u2014 |\(|,|;")


def card_fields(sections: Mapping[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
    """The fields a card must have: the model-card check's sections plus owners."""
    return {**sections, "owners": OWNERS}


@dataclass(frozen=True)
class CardReview:
    path: str
    sha256: str
    missing: tuple[str, ...]  # fields without a heading
    heading: str | None  # the decisive-features heading; None: the card has none
    documented: tuple[str, ...]  # the features it names (feature names where they matched)
    k: int  # how many measured features the documented ones were compared with
    findings: tuple[Finding, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "sha256": self.sha256,
            "missing_fields": list(self.missing),
            "decisive_section": self.heading,
            "documented_features": list(self.documented) if self.heading is not None else None,
            "compared_top_k": self.k if self.heading is not None else None,
        }


def read_card(path: Path) -> str:
    with path.open("rb") as handle:
        return handle.read(MAX_CARD_BYTES).decode("utf-8", errors="replace")


def review(
    text: str,
    fields: Mapping[str, tuple[str, ...]],
    explanation: Explanation,
    where: str,
    sha256: str,
) -> CardReview:
    """Completeness and the decisive-features comparison of one card; `where` names it."""
    heads = list(_headings(text))
    titles = [title.casefold() for _, title, _ in heads]
    missing = tuple(
        name for name, synonyms in fields.items()
        if not any(t.startswith(s) for t in titles for s in synonyms)
    )  # fmt: skip
    findings = [
        Finding("evaluation/card-missing-field", Severity.low,
                f"model card {where} has no '{name}' section", where, DOCUMENTATION)
        for name in missing
    ]  # fmt: skip
    section = _decisive(text, heads)
    if section is None:
        return CardReview(where, sha256, missing, None, (), 0, tuple(findings))
    heading, body = section
    names = [f.feature for f in explanation.features]
    documented = _documented(body, names)
    k = max(TOP_K, len(documented))
    top = explanation.top(k)
    measured = {_norm(f.feature) for f in top}
    known = {_norm(n) for n in names}
    said = {_norm(d) for d in documented}
    for name in documented:
        if _norm(name) in measured:
            continue
        why = ("it is not one of the model's features" if _norm(name) not in known
               else f"the measurement does not find it decisive (top {k}, at least "
               f"{DECISIVE_SHARE:.0%} of the importance)")  # fmt: skip
        findings.append(Finding(
            "evaluation/card-feature-not-decisive", Severity.medium,
            f"model card {where} names {name!r} as decisive, but {why} "
            f"(measured: {_shares(top)})", where, EXPLANATION))  # fmt: skip
    for feature in top:
        if feature.share >= LARGE_SHARE and _norm(feature.feature) not in said:
            findings.append(Finding(
                "evaluation/card-feature-undocumented", Severity.medium,
                f"{feature.feature!r} carries {feature.share:.0%} of the measured importance, "
                f"but model card {where} does not name it under {heading!r}", where,
                EXPLANATION))  # fmt: skip
    return CardReview(where, sha256, missing, heading, tuple(documented), k, tuple(findings))


def missing_card(where: str, expected: str) -> Finding:
    return Finding("evaluation/card-missing", Severity.medium,
                   f"no model card next to {where} (expected {expected})", where,
                   DOCUMENTATION)  # fmt: skip


def snippet(
    measured: Measured, policy: Policy, model: tuple[str, str], data: tuple[str, str],
    versions: Mapping[str, str],
) -> str:  # fmt: skip
    """The measured figures as Markdown for the card's Evaluation section. `model` and `data`
    are (file name, sha256). Deterministic: no date, so an unchanged result diffs clean."""
    libraries = ", ".join(f"{k} {v}" for k, v in versions.items())
    lines = [
        "<!-- measured by custos evaluate; paste under the card's Evaluation heading -->",
        f"Measured by `custos evaluate` on the held-out set `{_md(data[0])}` "
        f"({measured.rows:,} rows, sha256 `{data[1][:16]}`), model `{_md(model[0])}` "
        f"(sha256 `{model[1][:16]}`){', ' + libraries if libraries else ''}.",
        "",
        "| Metric | Value | Required |",
        "| --- | ---: | --- |",
    ]
    for name, value in measured.metrics.items():
        limit = policy.max_rmse if name == "rmse" else policy.minimums.get(name)
        required = "" if limit is None else f"{'<=' if name == 'rmse' else '>='} {limit:.4f}"
        lines.append(f"| {LABELS[name]} | {_figure(value)} | {required} |")
    for sub in measured.subgroups:
        gap = "not judged" if sub.gap is None else f"{sub.gap:.4f}"
        allowed = "" if policy.max_gap is None else f" (allowed {policy.max_gap:.4f})"
        lines += [
            "",
            f"{LABELS[sub.metric]} by `{_md(sub.column)}` (groups under "
            f"{policy.min_group_size} rows are not judged); fairness gap {gap}{allowed}:",
            "",
            f"| {_md(sub.column)} | Rows | {LABELS[sub.metric]} |",
            "| --- | ---: | ---: |",
        ]
        for g in sub.groups:
            note = "" if g.judged else " (not judged)"
            lines.append(f"| {_md(g.value)} | {g.rows:,} | {_figure(g.metric)}{note} |")
    ex = measured.explanation
    shown = [f for f in ex.features[:10] if f.share > 0]
    if shown:
        lines += [
            "",
            f"Most important features (permutation importance of {ex.scoring}, {ex.repeats} "
            f"repeats, {ex.rows:,} rows, seed {ex.seed}):",
            "",
            "| Feature | Share | Mean drop |",
            "| --- | ---: | ---: |",
        ]
        lines += [f"| {_md(f.feature)} | {f.share:.1%} | {f.mean:.4f} |" for f in shown]
    return "\n".join(lines) + "\n"


LABELS = {"accuracy": "Accuracy", "f1": "F1 (macro)", "auc": "ROC AUC", "rmse": "RMSE",
          "r2": "R²"}  # fmt: skip


def _figure(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.4f}"


def _md(text: str) -> str:
    return text.replace("|", "\\|").replace("`", "'").replace("\n", " ")


def _shares(top: Sequence[Any]) -> str:
    return ", ".join(f"{f.feature} {f.share:.0%}" for f in top) or "no decisive feature"


def _norm(name: str) -> str:
    return re.sub(r"[\W_]+", "_", name.casefold()).strip("_")


def _headings(text: str) -> Iterator[tuple[int, str, int]]:
    """(level, title, line number) of each heading outside code fences."""
    fenced = False
    for number, line in enumerate(text.splitlines()):
        if line.lstrip().startswith(("```", "~~~")):
            fenced = not fenced
            continue
        match = None if fenced else _HEADING.match(line)
        if match:
            yield len(match.group(1)), match.group(2).strip().strip("*_ "), number


def _decisive(text: str, heads: list[tuple[int, str, int]]) -> tuple[str, str] | None:
    lines = text.splitlines()
    for i, (level, title, start) in enumerate(heads):
        if any(title.casefold().startswith(s) for s in DECISIVE):
            end = next((n for lv, _, n in heads[i + 1 :] if lv <= level), len(lines))
            return title, "\n".join(lines[start + 1 : end])
    return None


def _documented(body: str, features: Sequence[str]) -> list[str]:
    items: list[str] = []  # the text of each list item and table row that names a feature
    table: list[list[str]] = []
    for line in [*body.splitlines(), ""]:
        stripped = line.strip()
        if stripped.startswith("|"):
            table.append([c.strip() for c in stripped.strip("|").split("|")])
            continue
        items += _table_items(table)
        table = []
        item = _ITEM.match(line)
        if item:
            items.append(item.group(1))
    if not items:  # prose: the model's features it mentions
        return [f for f in features if _words(f) in _words(body)]
    by_norm = {_norm(f): f for f in features}
    named: list[str] = []
    for text in items:
        name = _name(text)
        found = by_norm.get(_norm(name)) or by_norm.get(_norm(text)) or _mentioned(text, features)
        if (found or name) and (found or name) not in named:
            named.append(found or name)
    return named


def _table_items(rows: list[list[str]]) -> list[str]:
    if len(rows) >= 2 and all(_SEPARATOR.match(c.replace(" ", "")) for c in rows[1] if c):
        rows = rows[2:]
    return [r[0] for r in rows if r and r[0] and not _SEPARATOR.match(r[0].replace(" ", ""))]


def _name(item: str) -> str:
    code = re.search(r"`([^`]+)`", item)
    if code:
        return code.group(1).strip()
    text = item.replace("**", "").replace("*", "")
    return _SPLIT.split(text, maxsplit=1)[0].strip().rstrip(".").strip()


def _words(text: str) -> str:
    """`text` as its words joined by and enclosed in '_', for whole-word containment."""
    return f"_{_norm(text)}_"


def _mentioned(text: str, features: Sequence[str]) -> str | None:
    hits = [f for f in features if _words(f) in _words(text)]
    return hits[0] if len(hits) == 1 else None
