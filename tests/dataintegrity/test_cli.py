"""`custos data-integrity` as a user runs it: the json contract (field names exact, rows from 0),
exit codes (0 clean, 1 findings, 2 bad input: one line naming the file, no traceback), the
baseline round trip (no drift against itself, drift when the class shares move), Parquet and
JSON Lines through the data scanner's readers, and the message when the extra is missing."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

from tests.cli.run import custos
from tests.dataintegrity.planted import TRIGGER_LABEL, write

CONTRACT = {"rows", "label", "duplicates", "label_issues", "triggers", "outliers",
            "class_balance"}  # fmt: skip


def test_json_contract_and_findings(tmp_path: Path) -> None:
    data = write(tmp_path / "train.csv", 1500, 4)
    result = custos("data-integrity", str(data.path), "--label", "label", "--format", "json")
    assert result.code == 1, result.err
    report = result.json()
    assert set(report) >= CONTRACT
    assert (report["rows"], report["label"]) == (data.rows, "label")
    assert set(report["duplicates"]) >= {"exact", "near"}
    assert {row for row, _ in report["duplicates"]["exact"]} == data.exact
    assert all(first < row for row, first in report["duplicates"]["near"])
    assert all(isinstance(r, int) for r in report["label_issues"])
    (trigger,) = report["triggers"]
    assert set(trigger) >= {"feature", "value_or_range", "label", "rows", "purity"}
    assert trigger["label"] == TRIGGER_LABEL
    assert trigger["purity"] == 1.0
    assert set(trigger["rows"]) == data.trigger
    assert set(report["outliers"]) == data.outliers
    assert report["model"]["folds"] == 5
    assert "HistGradientBoostingClassifier" in report["model"]["name"]
    assert sum(report["class_balance"]["counts"].values()) == data.rows
    rules = {f["rule"] for f in report["findings"]}
    assert "data-integrity/trigger-candidate" in rules
    assert report["baseline"] is None


def _relabel(source: Path, target: Path, every: int) -> None:
    """The same rows, every `every`-th relabelled to the trigger label: the class shares move."""
    with source.open(newline="") as f:
        rows = list(csv.reader(f))
    for i, row in enumerate(rows[1:]):
        if i % every == 0:
            row[-1] = TRIGGER_LABEL
    with target.open("w", newline="") as f:
        csv.writer(f).writerows(rows)


def test_baseline_round_trip(tmp_path: Path) -> None:
    data = write(tmp_path / "train.csv", 1500, 7, clean=True)
    baseline = tmp_path / "baselines" / "train.json"
    first = custos("data-integrity", str(data.path), "--label", "label", "--baseline-out",
                   str(baseline))  # fmt: skip
    assert first.code == 0, first.out + first.err
    assert "nothing to review" in first.out
    recorded = json.loads(baseline.read_text())
    assert recorded["label"] == "label"
    assert recorded["rows"] == data.rows
    assert set(recorded["class_shares"]) == {"benign", "fraud", "review"}
    assert recorded["features"]["colour"]["kind"] == "categorical"
    assert "red" not in baseline.read_text()  # categories are kept as digests, never as text

    same = custos("data-integrity", str(data.path), "--label", "label", "--baseline",
                  str(baseline), "--format", "json")  # fmt: skip
    assert same.code == 0, same.err
    assert same.json()["baseline"] == {"path": str(baseline), "drift": []}

    shifted = tmp_path / "train-v2.csv"
    _relabel(data.path, shifted, every=5)
    moved = custos("data-integrity", str(shifted), "--label", "label", "--baseline",
                   str(baseline), "--format", "json")  # fmt: skip
    assert moved.code == 1
    report = moved.json()
    kinds = {d["kind"] for d in report["baseline"]["drift"]}
    assert "class-balance" in kinds
    assert "data-integrity/class-balance-drift" in {f["rule"] for f in report["findings"]}
    assert report["class_balance"]["change"][TRIGGER_LABEL] > 0.03


def test_bad_input_is_one_line_and_exit_2(tmp_path: Path) -> None:
    fake = tmp_path / "train.csv"
    fake.write_bytes(b"PK\x03\x04" + bytes(64))
    binary = custos("data-integrity", str(fake), "--label", "label")
    assert binary.code == 2
    assert len(binary.err.strip().splitlines()) == 1, binary.err
    assert str(fake) in binary.err
    assert "Traceback" not in binary.err

    good = tmp_path / "ok.csv"
    good.write_text("a,b\n1,x\n2,y\n")
    missing = custos("data-integrity", str(good), "--label", "target")
    assert missing.code == 2
    assert "no column 'target'" in missing.err
    assert str(good) in missing.err
    assert len(missing.err.strip().splitlines()) == 1, missing.err

    absent = custos("data-integrity", str(tmp_path / "nope.csv"), "--label", "label")
    assert absent.code == 2
    assert "no such file" in absent.err

    usage = custos("data-integrity", str(good))  # --label is required
    assert usage.code == 2

    prices = tmp_path / "prices.csv"
    prices.write_text("size,price\n" + "".join(f"{i},{i * 1.37:.2f}\n" for i in range(150)))
    regression = custos("data-integrity", str(prices), "--label", "price")
    assert regression.code == 2
    assert "150 distinct values" in regression.err


def test_parquet_and_json_lines(tmp_path: Path) -> None:
    import pyarrow as pa  # a dev dependency: without it the test fails, it does not skip
    import pyarrow.parquet as pq

    rows = [{"amount": float(i % 7), "kind": "ab"[i % 2], "label": "xy"[i % 3 == 0]}
            for i in range(60)]  # fmt: skip
    pq.write_table(pa.Table.from_pylist(rows), tmp_path / "t.parquet")
    (tmp_path / "t.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    for name in ("t.parquet", "t.jsonl"):
        out = custos("data-integrity", str(tmp_path / name), "--label", "label", "--format",
                     "json")  # fmt: skip
        assert out.code in (0, 1), out.err
        report = out.json()
        assert report["rows"] == 60
        # rows 7 apart repeat each other exactly (same amount, kind and label)
        assert [7, 0] in report["duplicates"]["exact"] or [42, 0] in report["duplicates"]["exact"]


def test_missing_extra_exits_2_with_the_install_command(tmp_path: Path) -> None:
    good = tmp_path / "ok.csv"
    good.write_text("a,label\n1,x\n2,y\n")
    hide = "import sys; sys.modules['cleanlab'] = None; from custos.cli.entry import main; main()"
    done = subprocess.run(
        [sys.executable, "-c", hide, "data-integrity", str(good), "--label", "label"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 2
    assert "data-integrity needs scikit-learn and cleanlab: pip install 'custos[integrity]'" in (
        done.stderr
    )
