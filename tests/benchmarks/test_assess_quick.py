"""benchmarks/assess_scale.py --quick --json, run as a user runs it, so the harness cannot rot:
it exits 0, prints exactly one JSON object in the shared shape (benchmarks/figures.py), and
every figure (assess and HTML times, their scaling exponents) has a positive value. A quick run
is not at the goals' sizes, so no goal is judged."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.benchmarks.harness import run_benchmark

FIGURES = (
    "assess, full catalog, 30 systems x 10 assets, in-process",
    "HTML report, 30 systems",
    "assess scaling exponent over 10/30 systems",
    "HTML report scaling exponent over 10/30 systems",
)


@pytest.fixture(scope="module")
def result(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    done = run_benchmark(
        "assess_scale.py", tmp_path_factory.mktemp("assess-scale"), "--quick", "--json", timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert "10 systems" in done.stderr  # progress goes to stderr, not into the JSON
    value: dict[str, Any] = json.loads(done.stdout)  # exactly one object: anything else raises
    return value


def test_one_object_in_the_shared_shape(result: dict[str, Any]) -> None:
    assert result["benchmark"] == "assess-scale"
    assert result["quick"] is True
    assert result["versions"]["custos"]
    assert result["machine"]["nproc"]
    assert result["sizes"] == [10, 30]
    assert [run["systems"] for run in result["runs"]] == [10, 30]
    assert [run["statuses"] > 0 for run in result["runs"]] == [True, True]


def test_every_figure_has_a_positive_value_and_no_judged_goal(result: dict[str, Any]) -> None:
    assert [f["figure"] for f in result["figures"]] == list(FIGURES)
    for figure in result["figures"]:
        assert isinstance(figure["custos"], float), figure
        assert figure["custos"] > 0, figure
        assert figure["goal"], figure
        assert figure["met"] is None, figure  # quick sizes are not the goals' sizes
