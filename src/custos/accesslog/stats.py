"""Robust statistics the detections share: the robust z score (median and MAD), the normal
quantile function, and the Shapiro-Wilk W statistic (Royston's AS R94 coefficients, as
scipy.stats.shapiro computes it; written out here because importing scipy.stats costs most of
a second, and the tests hold the two to the same value)."""

from __future__ import annotations

import functools
import math

import numpy as np
import numpy.typing as npt

Floats = npt.NDArray[np.float64]
MAD_SIGMA = 1.4826  # MAD to standard deviation under normality


def robust_z(values: Floats, floor: float = 1e-9) -> Floats:
    """(x - median) / (1.4826 MAD); the scale is floored so that a constant peer group does
    not turn every small difference into an infinite score."""
    if values.size == 0:
        return values.astype(np.float64)
    centre = float(np.median(values))
    scale = max(MAD_SIGMA * float(np.median(np.abs(values - centre))), floor)
    return (values - centre) / scale


def centre_scale(values: Floats, floor: float) -> tuple[float, float]:
    centre = float(np.median(values))
    return centre, max(MAD_SIGMA * float(np.median(np.abs(values - centre))), floor)


# Acklam's rational approximation of the normal quantile function (relative error < 1.2e-9).
_A = (-3.969683028665376e01, 2.209460984245205e02, -2.759285104469687e02,
      1.383577518672690e02, -3.066479806614716e01, 2.506628277459239e00)  # fmt: skip
_B = (-5.447609879822406e01, 1.615858368580409e02, -1.556989798598866e02,
      6.680131188771972e01, -1.328068155288572e01)  # fmt: skip
_C = (-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e00,
      -2.549732539343734e00, 4.374664141464968e00, 2.938163982698783e00)  # fmt: skip
_D = (7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e00,
      3.754408661907416e00)  # fmt: skip


def _poly(coefficients: tuple[float, ...], x: Floats) -> Floats:
    out = np.zeros_like(x)
    for c in coefficients:
        out = out * x + c
    return out


def norm_ppf(p: Floats) -> Floats:
    """The standard normal quantile of each p in (0, 1)."""
    p = np.asarray(p, dtype=np.float64)
    out = np.empty_like(p)
    low = p < 0.02425
    high = p > 1 - 0.02425
    mid = ~(low | high)
    q = p[mid] - 0.5
    r = q * q
    out[mid] = q * _poly(_A, r) / (_poly(_B, r) * r + 1)
    for mask, sign, tail in ((low, 1.0, p[low]), (high, -1.0, 1 - p[high])):
        s = np.sqrt(-2 * np.log(tail))
        out[mask] = sign * _poly(_C, s) / (_poly(_D, s) * s + 1)
    return out


def shapiro_w(sample: Floats) -> float:
    """The Shapiro-Wilk W of 3 <= n <= 5000 values (1.0 for a constant sample, which has no
    spread to test)."""
    x = np.sort(np.asarray(sample, dtype=np.float64))
    n = x.size
    if n < 3 or n > 5000:
        raise ValueError(f"Shapiro-Wilk needs 3 to 5000 values, not {n}")
    spread = float(((x - x.mean()) ** 2).sum())
    if spread <= 0.0 or not math.isfinite(spread):
        return 1.0
    w = float(_coefficients(n) @ x) ** 2 / spread
    return min(w, 1.0)


@functools.lru_cache(maxsize=256)
def _coefficients(n: int) -> Floats:
    """The weights a_i of W for n values (they depend on n only: many keys share an n)."""
    if n == 3:
        a = np.array([-math.sqrt(0.5), 0.0, math.sqrt(0.5)])
    else:
        m = norm_ppf((np.arange(1, n + 1, dtype=np.float64) - 0.375) / (n + 0.25))
        mm = float(m @ m)
        u = 1 / math.sqrt(n)
        c = m / math.sqrt(mm)
        an = c[-1] + 0.221157 * u - 0.147981 * u**2 - 2.071190 * u**3 + 4.434685 * u**4 \
            - 2.706056 * u**5  # fmt: skip
        if n > 5:
            an1 = c[-2] + 0.042981 * u - 0.293762 * u**2 - 1.752461 * u**3 \
                + 5.682633 * u**4 - 3.582633 * u**5  # fmt: skip
            phi = (mm - 2 * m[-1] ** 2 - 2 * m[-2] ** 2) / (1 - 2 * an**2 - 2 * an1**2)
            a = m / math.sqrt(phi)
            a[-1], a[0], a[-2], a[1] = an, -an, an1, -an1
        else:
            phi = (mm - 2 * m[-1] ** 2) / (1 - 2 * an**2)
            a = m / math.sqrt(phi)
            a[-1], a[0] = an, -an
    a.flags.writeable = False
    return a
