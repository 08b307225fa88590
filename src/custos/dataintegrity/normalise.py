"""The rule that makes two values "near": Unicode NFKC, case folded, runs of whitespace made one
space, missing markers made empty, and numbers compared after rounding to `DIGITS` significant
digits (so `1.50`, `1.5` and `1.5000001` are one value, `1e3` and `1000` too)."""

from __future__ import annotations

import math
import unicodedata

import numpy as np
import numpy.typing as npt

DIGITS = 6  # significant digits kept when numbers are compared
# Cells that mean "no value": empty for near duplicates, missing (NaN) in numeric columns.
MISSING = frozenset({"", "na", "n/a", "nan", "null", "none", "-"})


def is_missing(text: str) -> bool:
    return text.strip().lower() in MISSING


def parse_number(text: str) -> float | None:
    """The value of a numeric cell; None when it is not a number."""
    try:
        value = float(text)
    except ValueError:
        return None
    return value


def round_number(value: float) -> float:
    """`value` to DIGITS significant digits (non-finite values and zero unchanged)."""
    if value == 0:
        return 0.0  # -0.0 is the same number
    if not math.isfinite(value):
        return value
    scale = 10.0 ** (DIGITS - 1 - math.floor(math.log10(abs(value))))
    return float(round(value * scale) / scale)


def round_numbers(values: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """`round_number` over an array, vectorised."""
    finite = np.isfinite(values) & (values != 0)
    magnitude = np.zeros_like(values)
    magnitude[finite] = np.floor(np.log10(np.abs(values[finite])))
    scale = 10.0 ** (DIGITS - 1 - magnitude)
    rounded: npt.NDArray[np.float64] = np.where(finite, np.round(values * scale) / scale, values)
    return rounded


def near_key(text: str) -> str:
    """The form two values share when they are near: `n:` and the rounded number, or `s:` and
    the normalised text."""
    if is_missing(text):
        return "s:"
    folded = " ".join(unicodedata.normalize("NFKC", text).casefold().split())
    number = parse_number(folded)
    if number is not None and math.isfinite(number):
        return f"n:{round_number(number)!r}"
    return f"s:{folded}"
