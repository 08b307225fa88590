"""Benchmark: `custos robustness` with its default caps, side by side with a process that calls
ART directly for the same attacks with the same parameters on the same points, on a generated
2,000-row, 10-feature CSV (scikit-learn's make_classification) and two small models trained on
it here:

  * white-box: StandardScaler + LogisticRegression (Custos folds the scaler into ART's
    preprocessing): FGSM and PGD at three budgets, 100 points, 20 PGD steps;
  * black-box: a 30-tree RandomForest (ART has no gradients for it): HopSkipJump, 25 points,
    10 iterations, from the same seeded starting points.

Figures, for each model:

  * "whole process wall, median of 3" (after a warm-up run): `custos robustness MODEL --data
    CSV --label label --trusted --format json` against `python benchmarks/robustness.py
    --art-direct ...` (numpy.loadtxt, joblib.load, ART's estimator and attacks, nothing else).
    The ratio is ART / Custos (> 1: Custos faster; below 1 it is Custos' overhead: start-up,
    the model-file scanner, reading the CSV, the checks of the model and data). Goals: Custos
    <= 60 s (2 cores), and at most 1.10x ART's time (10 % overhead);
  * "largest robust-accuracy difference from ART's": the two runs must give the same numbers
    (goal 0): what Custos reports is what ART computes.

`--quick`: 500 rows, 10 points, 3 iterations, one run each and no warm-up (about 30 s, most of
it four start-ups and ART imports; goals not judged).

Run: .venv/bin/python benchmarks/robustness.py [--quick] [--json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

# `python benchmarks/robustness.py` puts this folder first on sys.path: the shared contract.
from figures import Figure, at_most, compile_custos, emit, log, report, timed_custos

BENCHMARK = "robustness"
HERE = Path(__file__).resolve().parent
DATA = HERE / ".data"
FEATURES = 10
SEED = 11
RUNS = 3
GOAL_S, GOAL_OVERHEAD = 60.0, 1.10  # the issue: under 60 s, Custos overhead at most 10 %


def build(folder: Path, rows: int) -> tuple[Path, dict[str, Path]]:
    """The CSV and the two models (kept under benchmarks/.data between runs)."""
    import joblib
    from sklearn.datasets import make_classification  # type: ignore[import-untyped]
    from sklearn.ensemble import RandomForestClassifier  # type: ignore[import-untyped]
    from sklearn.linear_model import LogisticRegression  # type: ignore[import-untyped]
    from sklearn.pipeline import make_pipeline  # type: ignore[import-untyped]
    from sklearn.preprocessing import StandardScaler  # type: ignore[import-untyped]

    folder.mkdir(parents=True, exist_ok=True)
    x, y = make_classification(n_samples=rows, n_features=FEATURES, n_informative=6,
                               class_sep=1.5, random_state=SEED)  # fmt: skip
    x[:, :3] *= 100.0  # features on different scales, as tabular data has them
    data = folder / "data.csv"
    header = ",".join([*(f"f{i}" for i in range(FEATURES)), "label"])
    np.savetxt(data, np.column_stack([x, y]), delimiter=",", header=header, comments="",
               fmt=[*["%.6f"] * FEATURES, "%d"])  # fmt: skip
    models = {
        "white-box": make_pipeline(StandardScaler(), LogisticRegression()).fit(x, y),
        "black-box": RandomForestClassifier(30, max_depth=8, random_state=SEED).fit(x, y),
    }
    paths = {}
    for name, model in models.items():
        paths[name] = folder / f"{name}.joblib"
        joblib.dump(model, paths[name])
    return data, paths


def timed(model: Path, data: Path, extra: list[str]) -> tuple[float, dict[str, Any]]:
    args = [str(model), "--data", str(data), "--label", "label", "--trusted", "--format",
            "json", *extra]  # fmt: skip
    return timed_custos("robustness", *args)


def timed_art(model: Path, data: Path, custos: dict[str, Any]) -> tuple[float, dict[str, Any]]:
    """This script's `--art-direct` mode as a whole process, with Custos' budgets and caps."""
    eps = ",".join(str(b["eps"]) for b in custos["budgets"])
    args = [sys.executable, __file__, "--art-direct", str(model), str(data), custos["method"],
            eps, str(custos["points"]), str(custos["iterations"]), str(custos["seed"])]  # fmt: skip
    t0 = time.perf_counter()
    done = subprocess.run(args, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - t0
    if done.returncode != 0:
        raise RuntimeError(f"ART direct failed: {done.stderr[-2000:]}")
    return seconds, json.loads(done.stdout)


def art_direct(argv: list[str]) -> None:
    """ART called directly: the same points, budgets and attack parameters as Custos."""
    import joblib
    from art.attacks.evasion import (
        FastGradientMethod,
        HopSkipJump,
        ProjectedGradientDescent,
    )
    from art.estimators.classification import BlackBoxClassifier, SklearnClassifier

    model_path, data_path, method, eps_text, n_text, iterations_text, seed_text = argv
    eps = [float(e) for e in eps_text.split(",")]
    n, iterations, seed = int(n_text), int(iterations_text), int(seed_text)
    model = joblib.load(model_path)
    table = np.loadtxt(data_path, delimiter=",", skiprows=1)
    x_all, y_all = table[:, :-1].astype(np.float32), table[:, -1].astype(int)
    rng = np.random.default_rng(seed)
    pick = np.sort(rng.choice(len(x_all), size=n, replace=False))
    x, y = x_all[pick], y_all[pick]
    correct = model.predict(x) == y
    xc, yc = x[correct], y[correct]
    onehot = np.eye(2, dtype=np.float32)[yc]
    started = time.perf_counter()
    if method == "white-box":
        scaler, final = model.steps[0][1], model.steps[-1][1]
        art = SklearnClassifier(final, preprocessing=(scaler.mean_, scaler.scale_))
        robust = []
        for e in eps:
            still = np.ones(len(xc), dtype=bool)
            for attack in (
                FastGradientMethod(art, eps=e, batch_size=1024),
                ProjectedGradientDescent(art, eps=e, max_iter=iterations, batch_size=1024,
                                         eps_step=float(f"{min(e, 2.5 * e / iterations):.6g}"),
                                         verbose=False),
            ):  # fmt: skip
                still &= model.predict(attack.generate(xc, y=onehot)) == yc
            robust.append(float(still.sum()) / n)
    else:
        low, high = x_all.min(0) - max(eps), x_all.max(0) + max(eps)
        pool = x_all[np.sort(rng.choice(len(x_all), min(2000, len(x_all)), replace=False))]
        pool = np.vstack([pool, rng.uniform(low, high, (100, x.shape[1]))]).astype(np.float32)
        pooled = model.predict(pool)
        starts = np.array([pool[pooled != c][np.argmin(np.abs(pool[pooled != c] - p).max(1))]
                           for p, c in zip(xc, yc, strict=True)])  # fmt: skip
        art = BlackBoxClassifier(lambda z: np.eye(2, dtype=np.float32)[model.predict(z)],
                                 (x.shape[1],), 2, clip_values=(low, high))  # fmt: skip
        hsj = HopSkipJump(art, batch_size=1024, norm=np.inf, max_iter=iterations,
                          max_eval=1000, init_eval=100, init_size=100, verbose=False)  # fmt: skip
        np.random.seed(seed)
        adversarial = hsj.generate(xc, x_adv_init=starts)
        moved = model.predict(adversarial) != yc
        gap = np.where(moved, np.abs(adversarial - xc).max(1), np.inf)
        robust = [float(np.sum(gap > e)) / n for e in eps]
    seconds = time.perf_counter() - started
    json.dump({"robust_accuracy": robust, "attack_seconds": seconds}, sys.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="500 rows, 10 points, one run")
    parser.add_argument("--json", action="store_true", help="print one JSON object of figures")
    args = parser.parse_args()
    rows, runs = (500, 1) if args.quick else (2_000, RUNS)
    extra = ["--n", "10", "--iterations", "3"] if args.quick else []
    compile_custos()
    log(f"training the two models on a {rows:,}-row, {FEATURES}-feature CSV ...")
    data, models = build(DATA / f"robustness-v1-{rows}", rows)
    figures: list[Figure] = []
    kept: dict[str, Any] = {}
    for method, model in models.items():
        log(f"{method}: custos robustness and ART direct ({runs} run(s) each) ...")
        first = timed(model, data, extra)  # also gives the budgets ART direct is given
        custos = first[1]
        if not args.quick:  # warm-up: the page cache, and each side's first imports
            timed_art(model, data, custos)
        ours = [first] if args.quick else [timed(model, data, extra) for _ in range(runs)]
        theirs = [timed_art(model, data, custos) for _ in range(runs)]
        custos_s = statistics.median(s for s, _ in ours)
        art_s = statistics.median(s for s, _ in theirs)
        result, direct = ours[0][1], theirs[0][1]
        if result["method"] != method:
            raise RuntimeError(f"custos took the {result['method']} path for the {method} model")
        difference = max(abs(b["robust_accuracy"] - r)
                         for b, r in zip(result["budgets"], direct["robust_accuracy"],
                                         strict=True))  # fmt: skip
        attacks = " + ".join(a["name"] for a in result["attacks"])
        label = (f"robustness {method} ({result['model']['estimator']}, {attacks}, "
                 f"{result['points']} points, {len(result['budgets'])} budgets)")  # fmt: skip
        figures += [
            Figure(f"{label}, whole process wall, median of {runs}", round(custos_s, 2), "s",
                   "ART direct", round(art_s, 2), ratio=round(art_s / custos_s, 3),
                   goal=f"<= {GOAL_S:g} s and <= {GOAL_OVERHEAD:g}x ART",
                   met=None if args.quick else bool(at_most(custos_s, GOAL_S)
                                                    and custos_s <= GOAL_OVERHEAD * art_s)),
            Figure(f"{label}: largest robust-accuracy difference from ART's", difference,
                   "share", goal="0", met=difference == 0),
        ]  # fmt: skip
        kept[method] = {
            "custos_seconds": [round(s, 3) for s, _ in ours],
            "art_seconds": [round(s, 3) for s, _ in theirs],
            "custos_in_run_seconds": result["seconds"],
            "art_attack_seconds": round(direct["attack_seconds"], 3),
            "overhead": round(custos_s / art_s, 3),
            "budgets": result["budgets"],
            "art_robust_accuracy": direct["robust_accuracy"],
        }
    versions = ours[0][1]["versions"]
    out = report(BENCHMARK, figures, quick=args.quick, versions=versions, rows=rows, runs=kept)
    if args.json:
        emit(out)
        return
    for f in figures:
        peer = "" if f.peer_value is None else f"; {f.peer} {f.peer_value} {f.unit}"
        print(f"{f.figure}: {f.custos} {f.unit}{peer}; goal {f.goal}: {f.met}")
    for method, figures_of in kept.items():
        print(f"{method}: custos {figures_of['custos_seconds']} s, ART direct "
              f"{figures_of['art_seconds']} s, overhead {figures_of['overhead']}x "
              f"(in-run: custos {figures_of['custos_in_run_seconds']} s including loading and "
              f"reading, ART attacks {figures_of['art_attack_seconds']} s)")  # fmt: skip


if __name__ == "__main__":
    if sys.argv[1:2] == ["--art-direct"]:
        art_direct(sys.argv[2:])
    else:
        main()
