"""benchmarks/summary.py builds the one table of `make bench` from the benchmarks' JSON: here
from a real `differential.py --quick --json` run (peers pointed at an empty folder), written
into a Markdown file between its markers without touching the text around them."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from tests.benchmarks.harness import BENCHMARKS, run_benchmark

sys.path.insert(0, str(BENCHMARKS))

import summary


@pytest.fixture(scope="module")
def differential_json(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("summary")
    saved = folder / "differential.json"
    done = run_benchmark(
        "differential.py", folder, "--quick", "--json", "--peers", str(folder / "no-peers"),
        "--save", str(saved), timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return saved


def test_table_from_saved_json_written_between_markers(
    differential_json: Path, tmp_path: Path
) -> None:
    doc = tmp_path / "benchmarks.md"
    doc.write_text(
        f"# Benchmarks\n\nbefore\n\n{summary.START}\nold table\n{summary.END}\n\nafter\n"
    )
    done = run_benchmark(
        "summary.py", tmp_path, "--from-json", str(differential_json), "--write", str(doc),
        timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "scan-model on a directory of 20 small files" in done.stdout
    assert "picklescan: missing" in done.stdout
    text = doc.read_text()
    assert "old table" not in text
    assert text.startswith("# Benchmarks\n\nbefore\n\n")
    assert text.rstrip().endswith("after")
    table = text.split(summary.START)[1].split(summary.END)[0]
    assert "| figure | Custos | peer | ratio | goal | met? |" in table
    assert "(--quick: not the goals sizes)" in table
    figures = json.loads(differential_json.read_text())["figures"]
    assert sum(line.startswith("| differential, ") for line in table.splitlines()) == sum(
        f["figure"].startswith("differential, ") for f in figures
    )


def test_a_benchmark_that_did_not_finish_is_a_failed_row() -> None:
    rows = summary.rows([{"benchmark": "ledger", "failed": "exit 1", "figures": []}])
    assert rows == [["ledger: did not finish", "-", "-", "-", "-", "FAILED (exit 1)"]]


def test_quick_figures_are_never_written(tmp_path: Path) -> None:
    done = run_benchmark(
        "summary.py", tmp_path, "--quick", "--write", str(tmp_path / "x.md"), timeout=60
    )  # fmt: skip
    assert done.returncode == 2
    assert "never written" in done.stderr
    assert not (tmp_path / "x.md").exists()
