"""Robustness under attack (`custos robustness`, the `robustness` check; docs/assurance.md).

A trusted classifier (loaded through `custos.assurance.loading`, nothing else) is attacked with
IBM's Adversarial Robustness Toolbox (ART) on a seeded sample of a labelled table:

* white-box FGSM and PGD when ART has the model's loss gradient (logistic regression, linear
  SVMs, SVC with a linear, poly or rbf kernel; also behind StandardScaler, MinMaxScaler,
  MaxAbsScaler or RobustScaler steps of a Pipeline, folded into ART's preprocessing), and when
  ART's wrapper predicts what the model predicts; and for PyTorch models (a state dict in a
  declared architecture: custos.assurance.robustness_torch), through ART's PyTorchClassifier;
* black-box HopSkipJump otherwise (other estimators, ONNX models): a minimum-perturbation attack,
  so what is reported per budget is the share of points whose adversarial distance exceeds it.

Every adversarial example is judged by the model itself, not by ART's wrapper. A point counts as
robust at a budget when the model classifies it correctly and no attack moved it off its class
within the budget. Only points the model gets right are attacked.

Here: the settings and their caps, the run, the report and its findings; the attacks
themselves are custos.assurance.robustness_attacks.
"""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from custos._hashing import sha256_file
from custos.assurance import robustness_torch
from custos.assurance.loading import Loaded, load, versions
from custos.assurance.robustness_attacks import (
    Attack,
    Norm,
    Progress,
    attack,
    disagreement,
    gradients,
)
from custos.assurance.tabular import (
    Classifier,
    classifier,
    encode_labels,
    read_table,
    table_format,
)
from custos.errors import UserError
from custos.findings import Finding, Severity

CONTROLS = ("custos:ai:adversarial-robustness", "iso27002:2022:8.29", "euaiact:art15")
RULE = "robustness/below-threshold"
MAX_N, MAX_ITERATIONS, MAX_BUDGETS = 10_000, 500, 8
DEFAULTS = {"white-box": (100, 20), "black-box": (25, 10)}  # points attacked, iterations
DEFAULT_EPS = (0.05, 0.1, 0.25)  # x the median feature standard deviation, when none given
LIBRARIES = ("adversarial-robustness-toolbox", "scikit-learn", "numpy", "onnxruntime")


@dataclass(frozen=True)
class Settings:
    eps: tuple[float, ...] | None = None  # None: DEFAULT_EPS x the data's spread
    norm: Norm = "inf"
    n: int | None = None  # None: DEFAULTS by method
    iterations: int | None = None
    seed: int = 0
    min_robust_accuracy: float | None = None

    def check(self) -> None:
        """UserError (exit 2) for a value outside its cap."""
        if self.norm not in ("inf", "2"):
            raise UserError(f"--norm {self.norm}: use inf or 2")
        if self.eps is not None:
            if not self.eps or len(self.eps) > MAX_BUDGETS:
                raise UserError(f"--eps: give 1 to {MAX_BUDGETS} budgets")
            if any(not math.isfinite(e) or e <= 0 for e in self.eps):
                raise UserError("--eps: every budget must be a positive number")
        for name, value, cap in (("--n", self.n, MAX_N),
                                 ("--iterations", self.iterations, MAX_ITERATIONS)):  # fmt: skip
            if value is not None and not 1 <= value <= cap:
                raise UserError(f"{name} {value}: give 1 to {cap:,}")
        if not 0 <= self.seed < 2**32:
            raise UserError(f"--seed {self.seed}: give 0 to {2**32 - 1}")
        threshold = self.min_robust_accuracy
        if threshold is not None and not 0 <= threshold <= 1:
            raise UserError(f"--min-robust-accuracy {threshold}: give a share from 0 to 1")


@dataclass(frozen=True)
class Budget:
    eps: float
    robust_accuracy: float
    by_attack: dict[str, float]


@dataclass(frozen=True)
class Report:
    model: dict[str, Any]
    data: dict[str, Any]
    method: str  # "white-box" | "black-box"
    why: str
    norm: Norm
    points: int
    iterations: int
    seed: int
    clean_accuracy: float
    eps_source: str
    attacks: tuple[Attack, ...]
    budgets: tuple[Budget, ...]
    distances: dict[str, Any] | None
    vanished: int | None  # white-box: points whose loss gradient was zero (HopSkipJump's)
    threshold: float | None
    findings: tuple[Finding, ...]
    versions: dict[str, str]
    seconds: float

    @property
    def passed(self) -> bool | None:
        return None if self.threshold is None else not self.findings

    def to_json(self) -> dict[str, Any]:
        """The JSON `custos robustness --format json` writes (a contract: docs/assurance.md)."""
        threshold = self.threshold
        return {
            "model": self.model, "data": self.data, "method": self.method, "why": self.why,
            "norm": self.norm, "points": self.points, "iterations": self.iterations,
            "seed": self.seed, "clean_accuracy": self.clean_accuracy,
            "eps_source": self.eps_source,
            "attacks": [{"name": a.name, "parameters": a.parameters} for a in self.attacks],
            "budgets": [{"eps": b.eps, "robust_accuracy": b.robust_accuracy,
                         "by_attack": b.by_attack,
                         "passed": None if threshold is None else b.robust_accuracy >= threshold}
                        for b in self.budgets],
            "distances": self.distances, "vanished_gradients": self.vanished,
            "min_robust_accuracy": threshold,
            "passed": self.passed, "findings": [f.to_json() for f in self.findings],
            "versions": self.versions, "seconds": self.seconds,
        }  # fmt: skip

    def summary(self) -> str:
        """One paragraph with what the evidence must keep: attacks, parameters, results,
        the scanner's word and the library versions."""
        attacks = "; ".join(f"{a.name} {_params(a.parameters)}" for a in self.attacks)
        results = ", ".join(f"{b.robust_accuracy:.1%} at eps {b.eps:g}" for b in self.budgets)
        required = (f"required {self.threshold:.1%}" if self.threshold is not None
                    else "no threshold")  # fmt: skip
        libraries = ", ".join(f"{k} {v}" for k, v in sorted(self.versions.items()))
        masked = (f", the loss gradient vanished on {self.vanished} (HopSkipJump attacked them)"
                  if self.vanished else "")  # fmt: skip
        return (
            f"{self.method} ({self.why}{masked}); {self.norm} norm, {self.points} points of "
            f"{self.data['rows']:,}, seed {self.seed}: clean accuracy {self.clean_accuracy:.1%}, "
            f"robust accuracy {results}; {required}; {len(self.findings)} finding(s). "
            f"Attacks: {attacks}. {self.model['scanner']}. {libraries}"
        )


def run(
    model_path: Path,
    data_path: Path,
    label: str,
    settings: Settings,
    *,
    trusted: bool,
    progress: Progress | None = None,
    where: tuple[str, str] | None = None,
    architecture: str | None = None,
    project_dir: Path | None = None,
) -> Report:
    """Attack the model at `model_path` on the table at `data_path`; `where` names the model
    and data files in the report (default: the paths as given). With `architecture`
    ("module:callable", imported from `project_dir`), the model is a PyTorch state dict.
    UserError for bad input."""
    settings.check()
    model_where, data_where = where or (str(model_path), str(data_path))
    started = time.perf_counter()
    loaded = load(model_path, trusted, architecture, project_dir)
    x_all, y_all, features = read_table(data_path, label)
    with _quiet(), _settled(loaded, settings.seed):
        if loaded.format == "torch":
            model = robustness_torch.classifier(loaded, x_all, y_all, features, data_where)
        else:
            model = classifier(loaded, x_all, y_all, features, data_where)
        x_all = x_all[:, model.order].astype(np.float32)
        eps, eps_source = _budgets(settings.eps, x_all)
        white_box, why = _white_box(loaded, model, x_all, eps)
        rng = np.random.default_rng(settings.seed)
        method = "white-box" if white_box is not None else "black-box"
        n = min(settings.n or DEFAULTS[method][0], len(y_all))
        pick = np.sort(rng.choice(len(y_all), size=n, replace=False))
        x = x_all[pick]
        truth = encode_labels(y_all[pick], model.classes, data_where, label)
        predicted = model.predict(x)
        reason = None if white_box is None else disagreement(white_box, x, predicted)
        if reason is not None:
            why, method = reason, "black-box"
            n = min(settings.n or DEFAULTS[method][0], n)
            keep = np.sort(rng.choice(len(x), size=n, replace=False))
            x, truth, predicted = x[keep], truth[keep], predicted[keep]
        iterations = settings.iterations or DEFAULTS[method][1]
        correct = predicted == truth
        # only what the model gets right is attacked
        attacked = attack(model, white_box if method == "white-box" else None, x[correct],
                          truth[correct], x_all, eps, norm=settings.norm, steps=iterations,
                          hops=settings.iterations or DEFAULTS["black-box"][1],
                          seed=settings.seed, rng=rng, progress=progress)  # fmt: skip
    attacks, scores = attacked.attacks, attacked.scores
    robust = np.logical_and.reduce(list(scores.values()))
    budgets = tuple(
        Budget(e, _share(robust[:, i], n),
               {name: _share(by[:, i], n) for name, by in scores.items()})
        for i, e in enumerate(eps)
    )  # fmt: skip
    findings = _judge(budgets, settings, attacks, n, model_where)
    return Report(
        model={"path": model_where, "sha256": loaded.sha256, "format": loaded.format,
               "estimator": model.estimator, "scanner": loaded.scanned,
               **({"architecture": loaded.architecture} if loaded.architecture else {})},
        data={"path": data_where, "sha256": sha256_file(data_path),
              "format": table_format(data_path), "rows": len(y_all), "label": label,
              "features": [features[i] for i in model.order], "unused_columns": model.unused,
              "classes": [str(c) for c in model.classes]},
        method=method, why=why, norm=settings.norm, points=n, iterations=iterations,
        seed=settings.seed, clean_accuracy=round(float(np.mean(correct)), 4),
        eps_source=eps_source, attacks=attacks, budgets=budgets, distances=attacked.distances,
        vanished=attacked.vanished, threshold=settings.min_robust_accuracy, findings=findings,
        versions={**loaded.versions, **versions(*LIBRARIES)},
        seconds=round(time.perf_counter() - started, 2),
    )  # fmt: skip


def _white_box(
    loaded: Loaded, model: Classifier, rows: np.ndarray, eps: Sequence[float]
) -> tuple[Any | None, str]:
    """ART's estimator with the model's loss gradients, or None; and why."""
    if loaded.format == "onnx":
        return None, "ONNX: no gradients through onnxruntime"
    if loaded.format == "torch":
        return robustness_torch.gradients(loaded, len(model.classes), rows, eps)
    return gradients(loaded.model, len(model.order))


@contextmanager
def _settled(loaded: Loaded, seed: int) -> Iterator[None]:
    """For a torch model, at most 2 torch threads and torch seeded (put back after)."""
    if loaded.format != "torch":
        yield
        return
    with robustness_torch.settled(seed):
        yield


def _judge(
    budgets: Sequence[Budget], settings: Settings, attacks: Sequence[Attack], n: int, where: str
) -> tuple[Finding, ...]:
    threshold = settings.min_robust_accuracy
    if threshold is None:
        return ()
    names = " and ".join(a.name for a in attacks)
    return tuple(
        Finding(RULE, Severity.high, f"robust accuracy {b.robust_accuracy:.1%} at eps {b.eps:g} "
                f"({settings.norm} norm) is below the required {threshold:.1%} ({names}, {n} "
                f"points, seed {settings.seed})", where, CONTROLS)
        for b in budgets
        if b.robust_accuracy < threshold
    )  # fmt: skip


def _budgets(given: tuple[float, ...] | None, x: np.ndarray) -> tuple[list[float], str]:
    if given is not None:
        return sorted(set(given)), "given"
    spread = float(np.median(x.std(axis=0)))
    spread = spread if spread > 0 else float(np.mean(np.abs(x))) or 1.0
    fractions = ", ".join(f"{f:g}" for f in DEFAULT_EPS)
    source = f"default: {fractions} x the median feature standard deviation ({spread:.4g})"
    return [float(f"{f * spread:.3g}") for f in DEFAULT_EPS], source


def _params(parameters: dict[str, Any]) -> str:
    hidden = ("eps", "start", "eps_step_rule", "clip")
    shown = {k: v for k, v in parameters.items() if k not in hidden}
    return "(" + ", ".join(f"{k}={v}" for k, v in shown.items()) + ")"


def _share(flags: np.ndarray, n: int) -> float:
    return round(float(np.sum(flags)) / n, 4)


@contextmanager
def _quiet() -> Iterator[None]:
    """A model fitted on a DataFrame warns on every array it is given: once per query here."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="X does not have valid feature names")
        yield
