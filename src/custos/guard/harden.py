"""Output hardening: probability vectors in a JSON answer keep their top k values and are
rounded to a few digits (Tramer et al., "Stealing Machine Learning Models via Prediction
APIs", 2016: full-precision confidences make extraction cheap). Nothing else changes: text,
booleans, integers-only lists and numbers outside a probability vector are left as they are.

A probability vector is a list of at least two numbers, or an object of at least two named
numbers, at least one of them a float, all in [0, 1], summing to 1 within 0.01. In a list the
values below the top k become 0.0 (positions keep their meaning); in an object the other
names are dropped."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

SUM_TOLERANCE = 0.01


@dataclass(frozen=True, slots=True)
class Hardening:
    top_k: int | None = None  # keep this many values of each vector (None: all)
    digits: int | None = None  # round to this many decimal digits (None: as they are)

    @property
    def active(self) -> bool:
        return self.top_k is not None or self.digits is not None


def _number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def is_probability_vector(values: list[Any]) -> bool:
    if len(values) < 2 or not all(_number(v) for v in values):
        return False
    if not any(isinstance(v, float) for v in values):
        return False
    return all(0.0 <= v <= 1.0 for v in values) and abs(sum(values) - 1.0) <= SUM_TOLERANCE


def _kept(values: list[float], top_k: int | None) -> set[int]:
    """Indices of the top k values (ties broken by position, first wins)."""
    if top_k is None or top_k >= len(values):
        return set(range(len(values)))
    order = sorted(range(len(values)), key=lambda i: (-values[i], i))
    return set(order[:top_k])


def _round(v: float, digits: int | None) -> float:
    return float(round(v, digits)) if digits is not None else float(v)


def harden(value: Any, h: Hardening) -> Any:
    """The JSON value with every probability vector in it hardened (a new value)."""
    if isinstance(value, list):
        if is_probability_vector(value):
            keep = _kept(value, h.top_k)
            return [_round(v, h.digits) if i in keep else 0.0 for i, v in enumerate(value)]
        return [harden(v, h) for v in value]
    if isinstance(value, dict):
        values = list(value.values())
        if is_probability_vector(values):
            keep = _kept(values, h.top_k)
            return {k: _round(v, h.digits) for i, (k, v) in enumerate(value.items()) if i in keep}
        return {k: harden(v, h) for k, v in value.items()}
    return value
