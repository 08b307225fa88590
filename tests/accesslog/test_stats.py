"""The statistics the detections lean on: the Shapiro-Wilk W written out here equals
scipy.stats.shapiro's, the normal quantiles equal scipy's, robust z ignores outliers, and the
drift measures are zero on the same data and grow with a shift."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from custos.accesslog.drift import measures, summary
from custos.accesslog.report import mask_key
from custos.accesslog.stats import norm_ppf, robust_z, shapiro_w


@pytest.mark.parametrize("n", [3, 4, 5, 6, 11, 50, 400, 5000])
def test_shapiro_w_matches_scipy(n: int) -> None:
    rng = np.random.default_rng(n)
    for x in (rng.normal(size=n), rng.exponential(size=n), np.r_[rng.normal(size=n // 2) * 0.01,
              rng.normal(size=n - n // 2) + 4]):  # fmt: skip
        assert shapiro_w(x) == pytest.approx(stats.shapiro(x).statistic, abs=1e-6)
    assert shapiro_w(np.ones(10)) == 1.0


def test_normal_quantiles() -> None:
    p = np.random.default_rng(1).random(10_000)
    assert np.abs(norm_ppf(p) - stats.norm.ppf(p)).max() < 1e-8


def test_robust_z() -> None:
    z = robust_z(np.array([1.0, 1.1, 0.9, 1.0, 50.0]))
    assert abs(z[0]) < 1
    assert z[-1] > 100


def test_drift_measures() -> None:
    rng = np.random.default_rng(3)
    ref = summary(rng.normal(size=20_000), 10)
    assert all(m < 0.05 for m in measures(ref, rng.normal(size=20_000)))
    psi, js, w = measures(ref, rng.normal(size=20_000) + 1.0)
    assert psi > 0.5
    assert js > 0.2
    assert w == pytest.approx(1.0, abs=0.1)


def test_masked_keys() -> None:
    key = "sk_live_0123456789abcdef0123"
    masked = mask_key(key)
    assert masked is not None
    assert key not in masked
    assert masked.startswith("sk_live_…[28] #")
    assert mask_key("abc") == "a…[3] #ba7816bf"  # a third at most, and SHA-256's first digits
