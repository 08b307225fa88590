"""The CVSS v3.0/v3.1 base score from a vector string (FIRST's specification, section 7), and
the qualitative rating of a score as a Custos severity. Only the eight base metrics count:
temporal and environmental metrics in a vector are accepted and ignored, as OSV's severity is
the base score. No I/O here."""

from __future__ import annotations

import math

from custos.findings import Severity

# Metric weights of the specification's table 16 (v3.0 and v3.1 share them).
_AV = {"N": 0.85, "A": 0.62, "L": 0.55, "P": 0.2}
_AC = {"L": 0.77, "H": 0.44}
_PR_UNCHANGED = {"N": 0.85, "L": 0.62, "H": 0.27}
_PR_CHANGED = {"N": 0.85, "L": 0.68, "H": 0.5}  # privileges weigh less when scope changes
_UI = {"N": 0.85, "R": 0.62}
_CIA = {"H": 0.56, "L": 0.22, "N": 0.0}
_BASE = ("AV", "AC", "PR", "UI", "S", "C", "I", "A")
_SCOPE = {"U": 0.0, "C": 0.0}  # only its letter matters
_ALLOWED: dict[str, dict[str, float]] = {
    "AV": _AV, "AC": _AC, "PR": _PR_UNCHANGED, "UI": _UI, "S": _SCOPE,
    "C": _CIA, "I": _CIA, "A": _CIA,
}  # fmt: skip


def _roundup_v31(value: float) -> float:
    """v3.1's Roundup (appendix A): the smallest one-decimal number >= value, computed on
    integers so that floating point noise (e.g. 4.000000000001) does not add 0.1."""
    scaled = round(value * 100_000)
    if scaled % 10_000 == 0:
        return scaled / 100_000
    return (math.floor(scaled / 10_000) + 1) / 10.0


def _roundup_v30(value: float) -> float:
    return math.ceil(value * 10) / 10


def base_score(vector: str) -> float:
    """The base score of a `CVSS:3.x/AV:../...` vector; ValueError when it is not one."""
    parts = vector.strip().split("/")
    prefix = parts[0]
    if prefix not in ("CVSS:3.0", "CVSS:3.1"):
        raise ValueError(f"not a CVSS v3 vector: {vector!r}")
    metrics: dict[str, str] = {}
    for part in parts[1:]:
        name, sep, value = part.partition(":")
        if not sep or name in metrics:
            raise ValueError(f"malformed CVSS v3 vector {vector!r} at {part!r}")
        metrics[name] = value
    for name in _BASE:
        if metrics.get(name) not in _ALLOWED[name]:
            raise ValueError(f"CVSS v3 vector {vector!r} lacks a valid {name} metric")
    changed = metrics["S"] == "C"
    iss = 1 - ((1 - _CIA[metrics["C"]]) * (1 - _CIA[metrics["I"]]) * (1 - _CIA[metrics["A"]]))
    # a changed scope adds impact beyond the vulnerable component, with the spec's damping
    impact = 7.52 * (iss - 0.029) - 3.25 * (iss - 0.02) ** 15 if changed else 6.42 * iss
    pr = (_PR_CHANGED if changed else _PR_UNCHANGED)[metrics["PR"]]
    exploitability = 8.22 * _AV[metrics["AV"]] * _AC[metrics["AC"]] * pr * _UI[metrics["UI"]]
    if impact <= 0:
        return 0.0
    roundup = _roundup_v31 if prefix == "CVSS:3.1" else _roundup_v30
    total = (impact + exploitability) * (1.08 if changed else 1.0)
    return roundup(min(total, 10.0))


def rating(score: float) -> Severity:
    """The specification's qualitative scale: 0 none (info), 0.1-3.9 low, 4.0-6.9 medium,
    7.0-8.9 high, 9.0-10.0 critical."""
    if score >= 9.0:
        return Severity.critical
    if score >= 7.0:
        return Severity.high
    if score >= 4.0:
        return Severity.medium
    if score > 0.0:
        return Severity.low
    return Severity.info
