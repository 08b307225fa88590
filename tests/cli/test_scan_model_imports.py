"""The import budget of `custos scan-model`: what a CI job pays before the first byte is read.

Start-up is most of what scanning one small checkpoint costs, so the lean path is held to a
budget read from `python -X importtime` (which lists every module a process imports): for JSON
and SARIF output nothing outside the standard library and Custos' own scanner, and no part of
Custos that the scan does not need (catalog, store, evidence records, reports, typer, YAML). A
module count, not a time: it fails the same way on every machine.
"""

from __future__ import annotations

import pickle
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

# Interpreter start-up and stdlib probes that name packages that need not exist
# (copy tries `org.python.core`, for Jython); none of them is a dependency.
NOT_DEPENDENCIES = {"sitecustomize", "usercustomize", "_distutils_hack", "org"}
NEVER_ON_THE_LEAN_PATH = (
    "custos.catalog", "custos.store", "custos.assess", "custos.reports", "custos.server",
    "custos.ledger", "custos.inventory", "custos.checks.model", "custos.provenance",
    "custos.cli.app", "typer", "click", "pydantic", "sqlalchemy", "yaml", "jinja2", "numpy",
    "torch", "cryptography", "shutil", "datetime", "email", "http", "asyncio", "logging",
)  # fmt: skip
# today 50 (JSON), 54 (SARIF: the shared custos.sarif writer); raise only for a reason
CUSTOS_MODULES = 55


def torch_checkpoint(tmp_path: Path) -> Path:
    """The layout `torch.save` writes: a zip of data.pkl, tensor storages and a version."""
    path = tmp_path / "model.pt"
    state = pickle.dumps({"step": 3, "lr": 0.01}, protocol=2)
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("model/data.pkl", state)
        zf.writestr("model/data/0", b"\0" * 64)
        zf.writestr("model/version", b"3\n")
    return path


def imported(path: Path, *options: str) -> list[str]:
    code = (
        "import sys\nfrom custos.cli.entry import main\n"
        f"main(['scan-model', {str(path)!r}, *{list(options)!r}])\n"
    )
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", code], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr[-2000:]
    names = []
    for line in done.stderr.splitlines():
        if line.startswith("import time:") and "imported package" not in line:
            names.append(line.rsplit("|", 1)[1].strip())
    assert names, done.stderr[-2000:]
    return names


def third_party(names: list[str]) -> set[str]:
    tops = {n.split(".")[0] for n in names}
    return {t for t in tops if t not in sys.stdlib_module_names} - NOT_DEPENDENCIES - {"custos"}


def forbidden(names: list[str], allowed: frozenset[str] = frozenset()) -> list[str]:
    never = [f for f in NEVER_ON_THE_LEAN_PATH if f not in allowed]
    return [n for n in names for f in never if n == f or n.startswith(f + ".")]


# SARIF lists every rule, the tar scanner's too (tarfile imports shutil); rich imports datetime.
@pytest.mark.parametrize(
    ("output", "allowed"), [("json", frozenset()), ("sarif", frozenset({"shutil"}))]
)
def test_machine_output_imports_only_the_stdlib_and_the_scanner(
    tmp_path: Path, output: str, allowed: frozenset[str]
) -> None:
    names = imported(torch_checkpoint(tmp_path), "--format", output)
    assert third_party(names) == set()
    assert forbidden(names, allowed) == []
    custos = [n for n in names if n == "custos" or n.startswith("custos.")]
    assert len(custos) <= CUSTOS_MODULES, sorted(custos)


def test_a_plain_pickle_needs_no_zip_scanner(tmp_path: Path) -> None:
    path = tmp_path / "weights.pkl"
    path.write_bytes(pickle.dumps({"w": [1.0, 2.0]}, protocol=4))
    names = imported(path, "--format", "json")
    containers = ("zip_scan", "zip_member", "zip_decode", "inflate", "torch_scan", "tar_scan")
    assert not [n for n in names if n.rsplit(".", 1)[-1] in containers]
    assert third_party(names) == set()


def test_the_table_adds_rich_and_nothing_else(tmp_path: Path) -> None:
    names = imported(torch_checkpoint(tmp_path))
    assert third_party(names) - {"rich", "pygments", "markdown_it", "mdurl"} == set()
    assert "rich" in third_party(names)
    assert forbidden(names, frozenset({"datetime"})) == []


def test_the_budget_sees_an_import_when_there_is_one(tmp_path: Path) -> None:
    """A policy file is YAML: with `--policy` the parser is loaded, and the budget sees it
    (so the tests above pass because nothing is imported, not because nothing is seen)."""
    policy = tmp_path / "policy.yaml"
    policy.write_text("allow: []\n")
    names = imported(torch_checkpoint(tmp_path), "--format", "json", "--policy", str(policy))
    assert "yaml" in forbidden(names)
    assert "yaml" in third_party(names)
