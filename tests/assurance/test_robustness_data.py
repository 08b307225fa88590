"""What `custos robustness` reads and how it meets the model (custos.assurance.tabular): CSV,
TSV and Parquet tables; one-line errors naming the file, column and line; labels compared
across spellings (1, "1", "1.0"); the data's columns put in the model's order; and which
models get white-box gradients from ART and which go black-box, and why."""

from __future__ import annotations

import pickle
import sys
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import pytest

from custos.assurance.robustness import Settings, run
from custos.assurance.tabular import encode_labels, label_key, read_table
from custos.errors import UserError


def test_csv_tsv_and_parquet_read_alike(tmp_path: Path) -> None:
    import pyarrow as pa  # type: ignore[import-untyped]
    import pyarrow.parquet as pq  # type: ignore[import-untyped]

    (tmp_path / "t.csv").write_text("a,y,b\n1,yes,2.5\n-3e2,no, 4\n")
    (tmp_path / "t.tsv").write_text("a\ty\tb\n1\tyes\t2.5\n-3e2\tno\t 4\n")
    pq.write_table(pa.table({"a": [1, -300], "y": ["yes", "no"], "b": [2.5, 4.0]}),
                   tmp_path / "t.parquet")  # fmt: skip
    for name in ("t.csv", "t.tsv", "t.parquet"):
        x, y, features = read_table(tmp_path / name, "y")
        assert features == ["a", "b"]
        assert x.tolist() == [[1.0, 2.5], [-300.0, 4.0]]
        assert y.tolist() == ["yes", "no"]


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("d.csv", "a,b\n1,2\n", "no label column 'y' (columns: a, b)"),
        ("d.csv", "a,y\n1,ok\n2\n", "line 3 has 1 fields, the header 2"),
        ("d.csv", "a,y\nNaN,ok\n", "column 'a' has a missing or non-finite value on line 2"),
        ("d.csv", "a,y\n1,ok\n,no\n", "feature column 'a' is not numeric ('' on line 3)"),
        ("d.csv", "a,a,y\n1,2,ok\n", "column 'a' appears twice"),
        ("d.csv", "a,y\n1,\n", "label column 'y' is empty on line 2"),
        ("d.csv", "a,y\n", "no data rows"),
        ("d.csv", "y\nok\n", "no feature column besides the label 'y'"),
        ("d.json", "{}", "not a CSV or Parquet file"),
        ("d.csv", b"a,y\n\xff\xfe,1\n", "not UTF-8 text"),
    ],
)  # fmt: skip
def test_bad_tables_are_one_line_errors(
    tmp_path: Path, name: str, text: str | bytes, message: str
) -> None:
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text)
    with pytest.raises(UserError) as raised:
        read_table(path, "y")
    assert str(raised.value).startswith(f"{path}: ")
    assert message in str(raised.value)
    assert "\n" not in str(raised.value)


def test_parquet_without_pyarrow_says_how_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    monkeypatch.setitem(sys.modules, "pyarrow.parquet", None)
    path = tmp_path / "d.parquet"
    path.write_bytes(b"PAR1")
    with pytest.raises(UserError, match=r"pip install 'custos\[parquet\]'"):
        read_table(path, "y")


def test_labels_are_compared_by_value() -> None:
    assert label_key(1) == label_key("1") == label_key("1.0") == label_key(np.int64(1))
    assert label_key("fraud") == "fraud"
    y = np.asarray(["1", "0", "1.0"], dtype=object)
    assert encode_labels(y, [0, 1], "d.csv", "y").tolist() == [1, 0, 1]
    with pytest.raises(UserError, match="label 'maybe' in column 'y' is not a class the model"):
        encode_labels(np.asarray(["1", "maybe"], dtype=object), [0, 1], "d.csv", "y")


@pytest.fixture(scope="module")
def rows() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(3)
    x = rng.normal(size=(200, 3))
    return x, (x[:, 0] - x[:, 2] > 0).astype(int)


def write(path: Path, x: np.ndarray, y: np.ndarray, names: list[str]) -> Path:
    lines = [",".join([*names, "y"])]
    lines += [",".join([*(f"{v:.6f}" for v in row), str(t)]) for row, t in zip(x, y, strict=True)]
    path.write_text("\n".join(lines) + "\n")
    return path


def test_columns_follow_the_model_and_extra_ones_are_unused(
    tmp_path: Path, rows: tuple[np.ndarray, np.ndarray]
) -> None:
    import pandas as pd  # type: ignore[import-untyped]
    from sklearn.linear_model import LogisticRegression  # type: ignore[import-untyped]

    x, y = rows
    model = LogisticRegression().fit(pd.DataFrame(x, columns=["a", "b", "c"]), y)
    # pickle: the model-file scanner refuses joblib's inline object arrays (feature names)
    (tmp_path / "m.pkl").write_bytes(pickle.dumps(model))
    # the file has the columns in another order, and one the model never saw
    shuffled = np.column_stack([x[:, 2], np.zeros(len(x)), x[:, 0], x[:, 1]])
    data = write(tmp_path / "d.csv", shuffled, y, ["c", "noise", "a", "b"])
    report = run(tmp_path / "m.pkl", data, "y", Settings(eps=(0.01,), n=20), trusted=True)
    assert report.data["features"] == ["a", "b", "c"]
    assert report.data["unused_columns"] == ["noise"]
    assert report.clean_accuracy > 0.9
    missing = write(tmp_path / "e.csv", x[:, :2], y, ["a", "b"])
    with pytest.raises(UserError, match="no column 'c', which the model was trained on"):
        run(tmp_path / "m.pkl", missing, "y", Settings(eps=(0.01,)), trusted=True)


def _models() -> list[tuple[str, Any, str, str]]:
    from sklearn.pipeline import make_pipeline  # type: ignore[import-untyped]
    from sklearn.preprocessing import MinMaxScaler, PolynomialFeatures  # type: ignore[import-untyped]
    from sklearn.svm import SVC, LinearSVC  # type: ignore[import-untyped]
    from sklearn.tree import DecisionTreeClassifier  # type: ignore[import-untyped]

    return [
        ("tree", DecisionTreeClassifier(max_depth=3), "black-box", "ART has no gradients"),
        ("svc-rbf", SVC(kernel="rbf"), "white-box", "ScikitlearnSVC"),
        ("svc-sigmoid", SVC(kernel="sigmoid"), "black-box", "kernel 'sigmoid'"),
        ("scaled-linear-svc", make_pipeline(MinMaxScaler(), LinearSVC()), "white-box", "LinearSVC"),
        ("polynomial", make_pipeline(PolynomialFeatures(2), LinearSVC()), "black-box",
         "pipeline step PolynomialFeatures"),
    ]  # fmt: skip


@pytest.mark.parametrize("case", range(5), ids=[m[0] for m in _models()])
def test_gradients_where_art_has_them(
    tmp_path: Path, rows: tuple[np.ndarray, np.ndarray], case: int
) -> None:
    _, model, method, why = _models()[case]
    x, y = rows
    joblib.dump(model.fit(x, y), tmp_path / "m.joblib")
    data = write(tmp_path / "d.csv", x, y, ["a", "b", "c"])
    settings = Settings(eps=(0.05,), n=6, iterations=2)
    report = run(tmp_path / "m.joblib", data, "y", settings, trusted=True)
    assert report.method == method
    assert why in report.why
    assert report.points == 6
    names = [a.name for a in report.attacks]
    assert names[0] == ("HopSkipJump" if method == "black-box" else "FastGradientMethod")
