"""The pre-commit hooks of .pre-commit-hooks.yaml, run as pre-commit runs them: in a temporary
git repository, the entry with the hook's args and the staged files its `files` pattern selects,
from the repository's root, with this environment's `custos` and `python` first on PATH.

A staged pickle carrying a shell command and a Python file unpickling a computed path each stop
the commit (exit 1, the finding shown); clean files pass. With CUSTOS_TEST_PRE_COMMIT=1 and the
`pre-commit` tool installed, `pre-commit try-repo` runs both hooks on a snapshot of this checkout
as well (it installs custos into a new environment: about a minute)."""

from __future__ import annotations

import os
import pickle
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
UNSAFE_CODE = "import joblib\n\n\ndef load(path):\n    m = joblib.load(path)\n    return m\n"
CLEAN_CODE = (
    "import json\n\n\ndef load(path):\n    with open(path) as f:\n        return json.load(f)\n"
)

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="needs git")


class _Payload:
    """Pickles to a call of os.system: never unpickled here, only scanned."""

    def __reduce__(self) -> tuple[Any, tuple[str]]:
        return (os.system, ("echo pwned",))


def _hooks() -> dict[str, dict[str, Any]]:
    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    return {h["id"]: h for h in hooks}


def _env() -> dict[str, str]:
    return {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
            "COLUMNS": "200"}  # fmt: skip


def _git(repo: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", *args], cwd=repo, capture_output=True, text=True, check=True, timeout=60
    )
    return done.stdout


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    made = tmp_path / "project"
    made.mkdir()
    _git(made, "init", "-q")
    _git(made, "config", "user.email", "dev@example.org")
    _git(made, "config", "user.name", "Dev")
    _git(made, "config", "commit.gpgsign", "false")
    (made / "models").mkdir()
    (made / "models" / "model.pkl").write_bytes(pickle.dumps(_Payload()))
    (made / "models" / "clean.pkl").write_bytes(pickle.dumps({"weights": [0.1, 0.2]}))
    (made / "train.py").write_text(UNSAFE_CODE)
    (made / "serve.py").write_text(CLEAN_CODE)
    (made / "README.md").write_text("a project\n")
    return made


def _stage(repo: Path, *names: str) -> None:
    _git(repo, "reset", "-q")
    _git(repo, "add", *names)


def _run_hook(repo: Path, hook: dict[str, Any]) -> subprocess.CompletedProcess[str] | None:
    """The hook as pre-commit runs it on the staged files; None when none matches (skipped)."""
    staged = _git(repo, "diff", "--cached", "--name-only").split()
    files = [f for f in staged if re.search(hook["files"], f)]
    if not files:
        return None
    command = [*shlex.split(hook["entry"]), *hook.get("args", [])]
    if hook.get("pass_filenames", True):
        command += files
    return subprocess.run(
        command, cwd=repo, env=_env(), capture_output=True, text=True, timeout=120, check=False
    )


def test_the_hooks_are_declared_for_pre_commit() -> None:
    hooks = _hooks()
    assert set(hooks) == {"custos-scan-model", "custos-scan-repo"}
    model, code = hooks["custos-scan-model"], hooks["custos-scan-repo"]
    assert model["entry"] == "custos scan-model"
    assert code["entry"] == "python -m custos.cli.precommit"
    for hook in (model, code):
        assert hook["language"] == "python"
        assert hook["pass_filenames"] is True
    for name in ("a.pkl", "b.pickle", "c.pt", "d.pth", "e.bin", "f.joblib", "g.h5", "h.keras",
                 "i.onnx", "j.safetensors", "k.gguf", "l.npy", "m.npz", "n.ckpt"):  # fmt: skip
        assert re.search(model["files"], f"models/{name}"), name
    assert not re.search(model["files"], "train.py")
    assert re.search(code["files"], "src/train.py")
    assert re.search(code["files"], "notebooks/explore.ipynb")
    assert not re.search(code["files"], "models/model.pkl")
    assert (BIN / "custos").exists(), "the custos console script is not installed here"


def test_staged_unsafe_files_stop_the_commit(repo: Path) -> None:
    hooks = _hooks()
    _stage(repo, "models/model.pkl", "train.py", "README.md")
    model = _run_hook(repo, hooks["custos-scan-model"])
    assert model is not None
    assert model.returncode == 1, model.stderr
    assert "pickle/dangerous-global" in model.stdout
    assert "models/model.pkl" in model.stdout
    code = _run_hook(repo, hooks["custos-scan-repo"])
    assert code is not None
    assert code.returncode == 1, code.stderr
    assert "repo/pickle-load" in code.stdout
    assert "train.py:5" in code.stdout
    # A higher threshold, given as the hook's args, lets the same commit through.
    lenient = {**hooks["custos-scan-repo"], "args": ["--fail-on", "critical"]}
    passed = _run_hook(repo, lenient)
    assert passed is not None
    assert passed.returncode == 0, passed.stderr


def test_clean_staged_files_pass(repo: Path) -> None:
    hooks = _hooks()
    _stage(repo, "models/clean.pkl", "serve.py")
    for hook in hooks.values():
        done = _run_hook(repo, hook)
        assert done is not None
        assert done.returncode == 0, done.stdout + done.stderr
    # Nothing staged that a hook reads: the hook is skipped, as pre-commit skips it.
    _stage(repo, "README.md")
    assert all(_run_hook(repo, hook) is None for hook in hooks.values())


def test_a_missing_file_is_a_usage_error(repo: Path) -> None:
    done = subprocess.run(
        [str(BIN / "python"), "-m", "custos.cli.precommit", "gone.py"],
        cwd=repo, env=_env(), capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == ["error: gone.py: no such file or directory"]


def _snapshot(tmp_path: Path) -> Path:
    """This checkout's package as a one-commit git repository, for `pre-commit try-repo`."""
    snap = tmp_path / "custos-src"
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")
    shutil.copytree(ROOT / "src", snap / "src", ignore=ignore)
    for name in ("pyproject.toml", "README.md", "LICENSE", "NOTICE", ".pre-commit-hooks.yaml"):
        shutil.copy2(ROOT / name, snap / name)
    _git(snap, "init", "-q")
    _git(snap, "add", "-A")
    _git(snap, "-c", "user.email=ci@example.org", "-c", "user.name=CI", "-c",
         "commit.gpgsign=false", "commit", "-qm", "snapshot")  # fmt: skip
    return snap


def test_pre_commit_try_repo(repo: Path, tmp_path: Path) -> None:
    """The real consumer: pre-commit installs this checkout into its own environment (about a
    minute) and runs both hooks on the staged files."""
    snap = _snapshot(tmp_path)
    env = {**_env(), "PRE_COMMIT_HOME": str(tmp_path / "pre-commit-home")}

    def try_repo(*files: str) -> subprocess.CompletedProcess[str]:
        _stage(repo, *files)
        return subprocess.run(
            [sys.executable, "-m", "pre_commit", "try-repo", str(snap), "--files", *files],
            cwd=repo, env=env, capture_output=True, text=True, timeout=600, check=False,
        )  # fmt: skip

    stopped = try_repo("models/model.pkl", "train.py")
    assert stopped.returncode == 1, stopped.stdout + stopped.stderr
    assert "pickle/dangerous-global" in stopped.stdout
    assert "repo/pickle-load" in stopped.stdout
    passed = try_repo("models/clean.pkl", "serve.py")
    assert passed.returncode == 0, passed.stdout + passed.stderr
