"""The attacks of `custos robustness` (custos.assurance.robustness), through IBM's Adversarial
Robustness Toolbox (ART):

* `gradients`: an ART estimator with the model's loss gradients, where ART has them (logistic
  regression, linear SVMs, SVC with a linear, poly or rbf kernel; also behind StandardScaler,
  MinMaxScaler, MaxAbsScaler or RobustScaler steps of a Pipeline, folded into ART's
  preprocessing), and `disagreement`, whether its wrapper predicts what the model predicts;
* `attack`: white-box FGSM and PGD at every budget with that estimator; HopSkipJump, black-box,
  on the points whose loss gradient vanished (gradient masking, not robustness), or on every
  point when there is no estimator.

Every adversarial example is judged by the model itself, not by ART's wrapper.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from custos.assurance.tabular import Classifier

HSJ = {"max_eval": 1000, "init_eval": 100, "init_size": 100}
BATCH = 1024
POOL = 2000  # rows HopSkipJump's starting points are drawn from
AGREEMENT = 0.99  # ART's wrapper must predict as the model does on this share of the points
BOUNDS = "each feature's observed range widened by the largest budget"

Progress = Callable[[str, int, int], None]  # (what, steps done, steps in all)
Norm = Literal["inf", "2"]


@dataclass(frozen=True)
class Attack:
    name: str
    parameters: dict[str, Any]


@dataclass(frozen=True)
class Attacked:
    attacks: tuple[Attack, ...]
    scores: dict[str, np.ndarray]  # per attack, points x budgets: still classified correctly
    vanished: int | None  # white-box: points whose loss gradient was zero (HopSkipJump's)
    distances: dict[str, Any] | None  # what HopSkipJump found, when it ran


def attack(
    model: Classifier,
    white_box: Any | None,
    x: np.ndarray,
    truth: np.ndarray,
    rows: np.ndarray,
    eps: Sequence[float],
    *,
    norm: Norm,
    steps: int,
    hops: int,
    seed: int,
    rng: np.random.Generator,
    progress: Progress | None,
) -> Attacked:
    """Attack the points `x` of class indices `truth` at every budget: FGSM and PGD (`steps`
    iterations) with `white_box`, then HopSkipJump (`hops` iterations, starting points drawn
    from `rows`, the whole table, with `rng`) on the points whose gradient vanished; only
    HopSkipJump when `white_box` is None."""
    low = rows.min(axis=0) - max(eps)
    high = rows.max(axis=0) + max(eps)
    attacks: tuple[Attack, ...] = ()
    scores: dict[str, np.ndarray] = {}
    hop = np.ones(len(x), dtype=bool)  # the points HopSkipJump attacks
    if white_box is not None:
        attacks, scores, hop = _white(model, white_box, x, truth, eps, norm, steps, progress)
    vanished = int(hop.sum()) if white_box is not None else None
    distances = None
    if white_box is None or hop.any():
        pool = rows[np.sort(rng.choice(len(rows), min(POOL, len(rows)), replace=False))]
        pool = np.vstack([pool, rng.uniform(low, high, (HSJ["init_size"], rows.shape[1]))])
        pool = pool.astype(np.float32)
        hsj, beyond, distances = _black(model, x[hop], truth[hop], pool, (low, high), eps, norm,
                                        hops, seed, progress)  # fmt: skip
        attacks, scores["HopSkipJump"] = (*attacks, hsj), np.ones((len(x), len(eps)), bool)
        scores["HopSkipJump"][hop] = beyond
    return Attacked(attacks, scores, vanished, distances)


def disagreement(white_box: Any, x: np.ndarray, predicted: np.ndarray) -> str | None:
    """Why ART's wrapper cannot stand in for the model (the attacks rely on it predicting what
    the model does, on AGREEMENT of the points), or None when it can."""
    try:
        agree = float(np.mean(np.argmax(white_box.predict(x), axis=1) == predicted))
    except Exception as exc:  # e.g. ART's SVC wrapper takes the labels for class indices
        return f"ART's wrapper cannot predict with the model ({type(exc).__name__})"
    if agree < AGREEMENT:
        return f"ART's wrapper agrees with the model on {agree:.0%} of the points"
    return None


def gradients(model: Any, width: int) -> tuple[Any | None, str]:
    """An ART estimator with loss gradients for the model, or None and why there is none."""
    from art.estimators.classification import SklearnClassifier
    from art.estimators.estimator import LossGradientsMixin
    from sklearn.pipeline import Pipeline  # type: ignore[import-untyped]
    from sklearn.svm import SVC  # type: ignore[import-untyped]

    steps = [s for _, s in model.steps] if isinstance(model, Pipeline) else [model]
    final = steps[-1]
    sub, div = np.zeros(width), np.ones(width)
    for step in steps[:-1]:
        affine = _affine(step)
        if affine is None:
            return None, f"pipeline step {type(step).__name__}: no gradient through it in ART"
        sub, div = sub + affine[0] * div, div * affine[1]
    name = type(final).__name__
    if isinstance(final, SVC) and final.kernel not in ("linear", "poly", "rbf"):
        return None, f"SVC with kernel {final.kernel!r}: ART has no gradient for it"
    if isinstance(final, SVC) and not isinstance(final.probability, bool):
        # scikit-learn 1.9 deprecates `probability` ("deprecated": no Platt scaling); ART reads
        # any value but False as "has predict_proba". A copy for ART says what it means.
        final = copy.copy(final)
        final.probability = False
    try:
        wrapped = SklearnClassifier(final, preprocessing=(sub, div))
    except Exception as exc:  # ART refuses some estimators outright
        return None, f"ART cannot wrap {name}: {exc}"
    if not isinstance(wrapped, LossGradientsMixin):
        return None, f"{name}: ART has no gradients for it"
    try:
        wrapped.loss_gradient(np.zeros((1, width), dtype=np.float32),
                              np.eye(wrapped.nb_classes, dtype=np.float32)[:1])  # fmt: skip
    except Exception as exc:
        return None, f"{name}: ART's gradient failed ({type(exc).__name__})"
    return wrapped, f"{name}: loss gradients from ART's {type(wrapped).__name__}"


def _affine(step: Any) -> tuple[Any, Any] | None:
    """A scaler as (subtrahend, divisor) in ART's preprocessing, or None."""
    from sklearn.preprocessing import (  # type: ignore[import-untyped]
        MaxAbsScaler,
        MinMaxScaler,
        RobustScaler,
        StandardScaler,
    )

    kind = type(step)
    if step is None or step == "passthrough":
        return 0.0, 1.0
    if kind is StandardScaler:
        scale = step.scale_ if step.with_std and step.scale_ is not None else 1.0
        return (step.mean_ if step.with_mean else 0.0), scale
    if kind is RobustScaler:
        scale = step.scale_ if step.with_scaling else 1.0
        return (step.center_ if step.with_centering else 0.0), scale
    if kind is MaxAbsScaler:
        return 0.0, step.scale_
    if kind is MinMaxScaler and not step.clip:
        return -step.min_ / step.scale_, 1.0 / step.scale_
    return None


def _white(
    model: Classifier,
    white_box: Any,
    x: np.ndarray,
    truth: np.ndarray,
    eps: Sequence[float],
    norm: Norm,
    iterations: int,
    progress: Progress | None,
) -> tuple[tuple[Attack, ...], dict[str, np.ndarray], np.ndarray]:
    """FGSM and PGD at every budget: (attacks, per attack a points x budgets array of "still
    correct", the points whose loss gradient is zero). Those are gradient masking, not
    robustness (a confident model's probabilities saturate): HopSkipJump attacks them."""
    from art.attacks.evasion import FastGradientMethod, ProjectedGradientDescent

    order = np.inf if norm == "inf" else 2
    steps = [float(f"{min(e, 2.5 * e / iterations):.6g}") for e in eps]
    attacks = (
        Attack("FastGradientMethod", {"norm": norm, "eps": list(eps), "targeted": False,
                                      "minimal": False, "num_random_init": 0,
                                      "batch_size": BATCH}),
        Attack("ProjectedGradientDescent", {"norm": norm, "eps": list(eps), "eps_step": steps,
                                            "eps_step_rule": "min(eps, 2.5 x eps / max_iter)",
                                            "max_iter": iterations, "targeted": False,
                                            "num_random_init": 0, "batch_size": BATCH}),
    )  # fmt: skip
    scores = {a.name: np.zeros((len(x), len(eps)), dtype=bool) for a in attacks}
    onehot = np.eye(len(model.classes), dtype=np.float32)[truth]
    gradient = white_box.loss_gradient(x, onehot) if len(x) else np.zeros_like(x)
    vanished = ~np.any(np.isfinite(gradient) & (gradient != 0), axis=1)
    total = 2 * len(eps)
    for i, (e, step) in enumerate(zip(eps, steps, strict=True)):
        for j, attack in enumerate((
            FastGradientMethod(white_box, norm=order, eps=e, batch_size=BATCH),
            ProjectedGradientDescent(white_box, norm=order, eps=e, eps_step=step,
                                     max_iter=iterations, batch_size=BATCH, verbose=False),
        )):  # fmt: skip
            if progress:
                progress(f"{attacks[j].name} eps {e:g}", 2 * i + j, total)
            if len(x):
                adversarial = attack.generate(x, y=onehot).astype(np.float32)
                scores[attacks[j].name][:, i] = model.predict(adversarial) == truth
    if progress:
        progress("done", total, total)
    return attacks, scores, vanished


def _black(
    model: Classifier,
    x: np.ndarray,
    predicted: np.ndarray,
    pool: np.ndarray,
    bounds: tuple[np.ndarray, np.ndarray],
    eps: Sequence[float],
    norm: Norm,
    iterations: int,
    seed: int,
    progress: Progress | None,
) -> tuple[Attack, np.ndarray, dict[str, Any]]:
    """HopSkipJump once per point (it minimises the perturbation): (the attack, points x
    budgets "the distance it found exceeds the budget", the distances found)."""
    from art.attacks.evasion import HopSkipJump
    from art.estimators.classification import BlackBoxClassifier

    k = len(model.classes)
    identity = np.eye(k, dtype=np.float32)
    estimator = BlackBoxClassifier(lambda z: identity[model.predict(z)], (x.shape[1],), k,
                                   clip_values=bounds)  # fmt: skip
    order = np.inf if norm == "inf" else 2
    start = (f"the nearest row of another class among {POOL:,} sampled rows and "
             f"{HSJ['init_size']} seeded uniform draws")  # fmt: skip
    parameters = {"norm": norm, "max_iter": iterations, **HSJ, "batch_size": BATCH,
                  "targeted": False, "clip": BOUNDS, "start": start}  # fmt: skip
    attack = HopSkipJump(estimator, batch_size=BATCH, targeted=False, norm=order,
                         max_iter=iterations, verbose=False, **HSJ)  # fmt: skip
    starts, startable = _starts(x, predicted, pool, model.predict(pool), norm)
    distance = np.full(len(x), np.inf)
    todo = np.flatnonzero(startable)
    chunks = np.array_split(todo, max(1, min(20, len(todo))))
    with _seeded(seed):
        for done, chunk in enumerate(chunks):
            if progress:
                progress(f"HopSkipJump {done * len(chunks[0]):,}/{len(todo):,} points", done,
                         len(chunks))  # fmt: skip
            if not len(chunk):
                continue
            adversarial = attack.generate(x[chunk], x_adv_init=starts[chunk].copy())
            moved = model.predict(adversarial.astype(np.float32)) != predicted[chunk]
            gap = np.linalg.norm(adversarial - x[chunk], ord=order, axis=1)
            distance[chunk] = np.where(moved, gap, np.inf)
    if progress:
        progress("done", len(chunks), len(chunks))
    found = distance[np.isfinite(distance)]
    distances = {
        "attacked": len(x), "found": len(found), "not_found": len(x) - len(found),
        "no_start": int(np.sum(~startable)),
        "median": round(float(np.median(found)), 6) if len(found) else None,
        "min": round(float(found.min()), 6) if len(found) else None,
        "max": round(float(found.max()), 6) if len(found) else None,
    }  # fmt: skip
    beyond = distance[:, None] > np.asarray(eps)[None, :]
    return Attack("HopSkipJump", parameters), beyond, distances


def _starts(
    x: np.ndarray, predicted: np.ndarray, pool: np.ndarray, pooled: np.ndarray, norm: Norm
) -> tuple[np.ndarray, np.ndarray]:
    """For each point the nearest pool row the model puts in another class (HopSkipJump's
    starting point; seeded, where ART's own random start is not), and whether there is one."""
    order = np.inf if norm == "inf" else 2
    starts = np.array(x, copy=True)
    found = np.zeros(len(x), dtype=bool)
    for i, (point, cls) in enumerate(zip(x, predicted, strict=True)):
        other = pool[pooled != cls]
        if len(other):
            starts[i] = other[np.argmin(np.linalg.norm(other - point, ord=order, axis=1))]
            found[i] = True
    return starts, found


@contextmanager
def _seeded(seed: int) -> Iterator[None]:
    """HopSkipJump draws from NumPy's global generator: seed it, and put it back after."""
    state = np.random.get_state()
    np.random.seed(seed)
    try:
        yield
    finally:
        np.random.set_state(state)
