"""Benchmark: `custos scan-repo` on a generated 2,000-file Python repository with planted ML
sinks, side by side with bandit on the same tree.

The tree: packages of modules that look like an ML project's (data loading, training loops,
feature code, HTTP clients, CLI glue; imports, classes, functions, comprehensions), and in one
module of 20 a planted sink, each with its file and line recorded: torch.load without
weights_only, pickle / joblib / pandas.read_pickle loads of variable paths, np.load with
allow_pickle=True, yaml.load without a safe loader, trust_remote_code=True, eval of model
output, subprocess with shell=True, requests with verify=False, from_pretrained without a
revision. Aliased imports (`import joblib as jl`, `from torch import load as tload`) are mixed
in, as real code has them.

Figures:

  * "scan-repo ... whole process wall": `custos scan-repo TREE --format json` (every rule:
    code, notebooks, secrets, manifests, Dockerfiles, workflows), median of 3 after a warm-up;
    bandit: `bandit -r TREE -f json -q` (its defaults, every plugin), median of 3. Goal: Custos
    at most a third of bandit's time (>= 3x).
  * recall on the planted ML sinks for each tool: a planted sink counts as found when the tool
    reports a finding at its file and line (bandit: any test id). Goal: Custos' recall at least
    bandit's. Both recalls are printed; bandit has no rule for joblib.load or allow_pickle.

`--quick`: 200 files, one run each, no bandit install (a bandit already installed is used).

Run: .venv/bin/python benchmarks/repo_scan.py [--quick] [--json] [--files N]
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import statistics
import subprocess
import time
from pathlib import Path
from typing import Any

from figures import Figure, at_least, compile_custos, emit, log, peer_venv, report, timed_custos

BENCHMARK = "repo_scan"
HERE = Path(__file__).resolve().parent
DATA = HERE / ".data"
BANDIT_VENV = HERE / ".venv-bandit"
BANDIT_PACKAGES = ("bandit==1.9.4",)
GOAL_RATIO = 3.0
RUNS = 3
SEED = 17
PLANT_EVERY = 20

FILLER = [
    "def {f}(rows, scale=1.0):\n    out = []\n    for r in rows:\n"
    "        if r is None:\n            continue\n        out.append(float(r) * scale)\n"
    "    return out\n",
    "class {C}:\n    def __init__(self, size: int) -> None:\n        self.size = size\n"
    "        self.items: list[int] = []\n\n    def add(self, x: int) -> None:\n"
    "        if len(self.items) < self.size:\n            self.items.append(x)\n\n"
    "    def mean(self) -> float:\n        return sum(self.items) / max(1, len(self.items))\n",
    "def {f}(batch):\n    total = {{k: sum(v) for k, v in batch.items()}}\n"
    "    keys = sorted(total, key=lambda k: -total[k])\n    return [(k, total[k]) for k in keys]\n",
    "def {f}(path):\n    with open(path, encoding='utf-8') as handle:\n"
    "        return [line.strip().split(',') for line in handle if line.strip()]\n",
    "def {f}(config):\n    settings = dict(config)\n    settings.setdefault('epochs', 10)\n"
    "    settings.setdefault('lr', 3e-4)\n    return settings\n",
]
IMPORTS = (
    "import os\nimport json\nimport logging\nfrom pathlib import Path\n\n"
    "log = logging.getLogger(__name__)\n\n"
)
# (rule, code lines; the sink is on the last line). {p} is a variable path.
SINKS: list[tuple[str, list[str]]] = [
    ("repo/torch-load-unsafe", ["import torch", "state = torch.load({p}, weights_only=False)"]),
    (
        "repo/torch-load-unsafe",
        ["from torch import load as tload", "state = tload({p}, weights_only=False)"],
    ),
    ("repo/pickle-load", ["import pickle", "model = pickle.load(open({p}, 'rb'))"]),
    ("repo/pickle-load", ["import joblib", "model = joblib.load({p})"]),
    ("repo/pickle-load", ["import joblib as jl", "model = jl.load({p})"]),
    ("repo/pickle-load", ["import pandas as pd", "frame = pd.read_pickle({p})"]),
    ("repo/pickle-load", ["import dill", "obj = dill.loads(payload)"]),
    ("repo/numpy-allow-pickle", ["import numpy as np", "arr = np.load({p}, allow_pickle=True)"]),
    ("repo/yaml-unsafe-load", ["import yaml", "cfg = yaml.load(open({p}))"]),
    (
        "repo/trust-remote-code",
        [
            "from transformers import AutoModel",
            "m = AutoModel.from_pretrained(name, trust_remote_code=True)",
        ],
    ),
    ("repo/eval-exec", ["answer = eval(model_output)"]),
    ("repo/subprocess-shell", ["import subprocess", "subprocess.run(cmd, shell=True)"]),
    ("repo/tls-verify-off", ["import requests", "r = requests.get(url, verify=False)"]),
]


def write_tree(root: Path, files: int, seed: int) -> list[tuple[str, int, str]]:
    """The repository; the planted sinks as (relative path, line, rule)."""
    rng = random.Random(seed)
    planted: list[tuple[str, int, str]] = []
    for i in range(files):
        package = root / f"pkg{i % 40:02d}"
        package.mkdir(parents=True, exist_ok=True)
        (package / "__init__.py").touch()
        parts = [IMPORTS]
        for j in range(rng.randint(4, 9)):
            template = rng.choice(FILLER)
            parts.append(template.format(f=f"step_{i}_{j}", C=f"Holder{i}x{j}") + "\n")
        text = "".join(parts)
        relative = f"pkg{i % 40:02d}/mod{i:04d}.py"
        if i % PLANT_EVERY == 0:
            rule, lines = SINKS[(i // PLANT_EVERY) % len(SINKS)]
            body = [lines[0]] if len(lines) > 1 else []
            indent = "    "
            code = (
                "\n".join(body) + "\n\n\ndef load_thing(path, name='org/model', url='x', "
                "cmd='ls', model_output='1', payload=b''):\n"
                f"{indent}{lines[-1].format(p='path')}\n"
                f"{indent}return locals()\n"
            )
            text += code
            sink = f"{indent}{lines[-1].format(p='path')}"
            line = text.splitlines().index(sink) + 1
            planted.append((relative, line, rule))
        (root / relative).write_text(text, encoding="utf-8")
    return planted


def run_custos(tree: Path) -> tuple[float, dict[str, Any]]:
    seconds, result = timed_custos("scan-repo", str(tree), "--format", "json")
    return seconds, result


def run_bandit(python: Path, tree: Path) -> tuple[float, dict[str, Any]] | None:
    bandit = python.parent / "bandit"
    command = [str(bandit), "-r", str(tree), "-f", "json", "-q"]
    t0 = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - t0
    if done.returncode not in (0, 1):
        log(f"bandit failed: {done.stderr[-1000:]}")
        return None
    result: dict[str, Any] = json.loads(done.stdout)
    return seconds, result


def recall(planted: list[tuple[str, int, str]], hits: set[tuple[str, int]]) -> float:
    found = sum((path, line) in hits for path, line, _ in planted)
    return found / max(1, len(planted))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="200 files, one run, no install")
    parser.add_argument("--json", action="store_true", help="print one JSON object of figures")
    parser.add_argument("--files", type=int, help="files in the tree (default 2,000)")
    args = parser.parse_args()
    files = args.files or (200 if args.quick else 2000)
    runs = 1 if args.quick else RUNS
    compile_custos()
    tree = DATA / f"repo-v1-{files}"
    if tree.exists():
        shutil.rmtree(tree)
    log(f"writing a {files:,}-file repository ...")
    planted = write_tree(tree, files, SEED)
    python = peer_venv(BANDIT_VENV, BANDIT_PACKAGES, install=not args.quick)
    log("custos scan-repo (one warm-up run, then timed runs) ...")
    run_custos(tree)
    ours = [run_custos(tree) for _ in range(runs)]
    custos_s = statistics.median(s for s, _ in ours)
    found = {(f["file"], f["line"]) for f in ours[0][1]["findings"]}
    custos_recall = recall(planted, found)
    bandit_s = bandit_recall = None
    if python is not None:
        log("bandit (one warm-up run, then timed runs) ...")
        run_bandit(python, tree)
        theirs = [r for r in (run_bandit(python, tree) for _ in range(runs)) if r is not None]
        if theirs:
            bandit_s = statistics.median(s for s, _ in theirs)
            hits = {(str(Path(r["filename"]).relative_to(tree).as_posix()), r["line_number"])
                    for r in theirs[0][1]["results"]}  # fmt: skip
            bandit_recall = recall(planted, hits)
    ratio = None if bandit_s is None else bandit_s / custos_s
    figures = [
        Figure(
            f"scan-repo on a {files:,}-file Python repository, whole process wall, median "
            f"of {runs}",
            round(custos_s, 3),
            "s",
            "bandit",
            None if bandit_s is None else round(bandit_s, 3),
            None if python is not None else "missing",
            None if ratio is None else round(ratio, 2),
            f">= {GOAL_RATIO}x bandit",
            at_least(ratio, GOAL_RATIO),
        ),
        Figure(
            f"recall on {len(planted)} planted ML sinks",
            round(custos_recall, 3),
            "share",
            "bandit",
            None if bandit_recall is None else round(bandit_recall, 3),
            None if bandit_recall is not None else "missing",
            None,
            ">= bandit's recall",
            None if bandit_recall is None else custos_recall >= bandit_recall,
        ),
    ]
    missed = sorted({rule for path, line, rule in planted if (path, line) not in found})
    result = report(BENCHMARK, figures, quick=args.quick,
                    versions={"bandit": BANDIT_PACKAGES[0]}, missed_rules=missed)  # fmt: skip
    if args.json:
        emit(result)
        return
    for f in figures:
        print(f"{f.figure}: custos {f.custos} {f.unit}; {f.peer} {f.peer_value}; ratio "
              f"{f.ratio}; goal {f.goal}: {f.met}")  # fmt: skip
    if missed:
        print(f"custos missed planted sinks of: {', '.join(missed)}")


if __name__ == "__main__":
    main()
