"""The monitor's isolation forest (custos.accesslog.forest) against scikit-learn's, the
reference implementation, on the same generated data: the two rank the points alike, agree
on the planted outliers and on what an unremarkable score is; ours is deterministic for a
seed and copes with constant and discrete features and tiny inputs."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.ensemble import IsolationForest  # type: ignore[import-untyped]

from custos.accesslog import forest


def _ranks(v: np.ndarray) -> np.ndarray:
    return np.argsort(np.argsort(v)).astype(np.float64)


def _spearman(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.corrcoef(_ranks(a), _ranks(b))[0, 1])


def _keys(seed: int, n: int = 1000, planted: int = 10) -> np.ndarray:
    """Behaviour vectors of n keys: correlated continuous features, a count, a share that is
    mostly 0, a constant; the first `planted` keys far off in a few features each."""
    rng = np.random.default_rng(seed)
    latent = rng.normal(size=(n, 3))
    x = np.column_stack([
        latent @ rng.normal(size=(3, 8)) + rng.normal(0, 0.3, (n, 8)),
        rng.poisson(3, n).astype(float),
        np.where(rng.random(n) < 0.9, 0.0, rng.random(n)),
        np.zeros(n),
    ])  # fmt: skip
    for i in range(planted):
        columns = rng.choice(8, 3, replace=False)
        x[i, columns] += rng.choice([-1, 1], 3) * rng.uniform(15, 25, 3)
    return x


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_ranks_the_points_as_scikit_learn_does(seed: int) -> None:
    x = _keys(seed)
    ours = forest.grow(x, trees=200, subsample=256, seed=seed).score(x)
    theirs = -IsolationForest(n_estimators=200, max_samples=256,
                              random_state=seed).fit(x).score_samples(x)  # fmt: skip
    # two scikit-learn forests with different seeds agree to about 0.95 on such data
    assert _spearman(ours, theirs) >= 0.9
    # the planted keys among the 20 highest scores: as many as scikit-learn finds
    planted = set(range(10))
    ours_top, theirs_top = (
        set(np.argsort(-ours)[:20].tolist()),
        set(np.argsort(-theirs)[:20].tolist()),
    )
    assert len(ours_top & planted) >= min(8, len(theirs_top & planted) - 1)
    assert len(ours_top & theirs_top) >= 14
    assert abs(float(np.median(ours)) - float(np.median(theirs))) < 0.03
    assert ((ours > 0) & (ours < 1)).all()


def test_deterministic_for_a_seed_and_different_across_seeds() -> None:
    x = _keys(4)
    first = forest.grow(x, seed=7).score(x)
    assert np.array_equal(first, forest.grow(x, seed=7).score(x))
    assert not np.array_equal(first, forest.grow(x, seed=8).score(x))


def test_small_and_degenerate_inputs() -> None:
    one = np.array([[1.0, 2.0]])
    assert forest.grow(one).score(one).shape == (1,)
    same = np.ones((50, 3))  # nothing to split on: every point alike
    scores = forest.grow(same).score(same)
    assert np.allclose(scores, scores[0])
    line = np.column_stack([np.arange(40.0), np.zeros(40)])
    line[39, 0] = 1000.0
    assert int(np.argmax(forest.grow(line, subsample=40).score(line))) == 39


def test_average_path_matches_the_published_values() -> None:
    # c(n) = 2 H(n - 1) - 2 (n - 1) / n with H(i) ~ ln(i) + Euler's constant; c(2) = 1
    assert forest.average_path(np.array([1, 2]))[0] == 0.0
    assert forest.average_path(np.array([1, 2]))[1] == 1.0
    assert float(forest.average_path(256)) == pytest.approx(10.2448, abs=1e-3)
