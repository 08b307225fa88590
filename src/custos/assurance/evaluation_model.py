"""The loaded model as the evaluation sees it: its task, the features it takes, its
predictions, and labels as codes.

Labels are compared as canonical text (2, 2.0 and "2.0" are all "2"; True is "True"), so a
CSV's labels and a model's predictions agree whatever types each uses; the metrics then work
on integer codes, the model's classes first in its own order (the probability columns).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from custos.assurance.evaluation_data import Table
from custos.assurance.loading import Loaded
from custos.errors import UserError

Task = Literal["classification", "regression"]
Predict = Callable[[np.ndarray], np.ndarray]


@dataclass(frozen=True)
class Targets:
    """The held-out labels and the model's predictions, comparable: floats (regression) or
    codes (classification); `predict` maps features to the same (for permutations)."""

    y: np.ndarray
    pred: np.ndarray
    predict: Predict
    proba: np.ndarray | None
    classes: tuple[str, ...]  # the model's classes, canonical text, in code order


def targets(loaded: Loaded, table: Table, task: Task) -> Targets:
    raw = _predictor(loaded, table)
    if task == "regression":
        if table.y.dtype == object:
            raise UserError(f"{table.path}: label {table.label!r} is not numeric; the model "
                            "is a regressor")  # fmt: skip
        predict = _floats(raw, table)
        return Targets(table.y.astype(np.float64), predict(table.x), predict, None, ())
    y_names, first = canonical(table.y), raw(table.x)
    classes = _classes(loaded, y_names, canonical(first))
    codes = _Codes(classes)
    y, pred = codes.encode(y_names), codes.encode(first)
    return Targets(y, pred, _encoded(raw, codes), _probabilities(loaded, table), classes)


def task_of(loaded: Loaded) -> Task:
    """Classification when the model has classes or probabilities (an ONNX model when its
    first output is not a float tensor), else regression."""
    if loaded.format == "onnx":
        kind = str(loaded.model.get_outputs()[0].type)
        floats = "float" in kind or "double" in kind
        return "classification" if loaded.predict_proba or not floats else "regression"
    from sklearn.base import is_classifier  # type: ignore[import-untyped]

    model = loaded.model
    return "classification" if is_classifier(model) or hasattr(model, "classes_") else "regression"


def feature_names(loaded: Loaded) -> tuple[str, ...] | None:
    """The columns the model was trained on, in order (scikit-learn's `feature_names_in_`)."""
    names = getattr(loaded.model, "feature_names_in_", None) if loaded.format == "sklearn" else None
    return None if names is None else tuple(str(n) for n in names)


def feature_count(loaded: Loaded) -> int | None:
    """How many features the model takes, when it says."""
    if loaded.format == "onnx":
        shape = loaded.model.get_inputs()[0].shape
        return shape[1] if len(shape) == 2 and isinstance(shape[1], int) else None
    count = getattr(loaded.model, "n_features_in_", None)
    return count if isinstance(count, int) else None


def canonical(values: Any) -> np.ndarray:
    """Labels as canonical text: integral numbers without a decimal part, others by repr."""
    array = np.asarray(values)
    if array.size == 0:
        return np.asarray([], dtype=object)
    unique, inverse = np.unique(array, return_inverse=True)
    return np.asarray([_canonical(v) for v in unique], dtype=object)[inverse.reshape(-1)]


def _canonical(value: Any) -> str:
    if isinstance(value, bytes):
        value = value.decode("utf-8", errors="replace")
    if isinstance(value, bool | np.bool_):
        return str(bool(value))
    if isinstance(value, str):
        text = value.strip()
        try:
            value = float(text)
        except ValueError:
            return text
    number = float(value)
    return str(int(number)) if number.is_integer() else repr(number)


@contextmanager
def _quiet() -> Iterator[None]:
    """scikit-learn warns when a model fitted on a DataFrame is given an array; the columns
    were matched by name already (feature_names_in_)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*feature names.*")
        yield


def _predictor(loaded: Loaded, table: Table) -> Predict:
    """The model's raw predictions (one per row), its errors as one-line UserErrors."""

    def predict(x: np.ndarray) -> np.ndarray:
        try:
            with _quiet():
                return np.asarray(loaded.predict(x)).reshape(len(x), -1)[:, 0]
        except Exception as exc:  # the model's own error on these inputs: one line
            said = (str(exc).strip().splitlines() or [""])[0][:200]
            raise UserError(f"{loaded.path}: the model failed to predict on {table.path}: "
                            f"{type(exc).__name__}: {said}") from None  # fmt: skip

    return predict


def _floats(raw: Predict, table: Table) -> Predict:
    def predict(x: np.ndarray) -> np.ndarray:
        values = raw(x).astype(np.float64)
        if not np.isfinite(values).all():
            raise UserError(f"{table.path}: the model predicts NaN or infinite values for "
                            "some rows; check the features for missing values")  # fmt: skip
        return values

    return predict


def _encoded(raw: Predict, codes: _Codes) -> Predict:
    return lambda x: codes.encode(raw(x))


class _Codes:
    """Labels (canonical text) as integer codes: the classes first, in order, so the codes of
    the probability columns are 0..k-1; labels the model does not know after them."""

    def __init__(self, classes: Sequence[str]) -> None:
        self.index = {name: i for i, name in enumerate(classes)}

    def encode(self, values: np.ndarray) -> np.ndarray:
        unique, inverse = np.unique(values, return_inverse=True)
        codes = [self.index.setdefault(_canonical(v), len(self.index)) for v in unique]
        return np.asarray(codes, dtype=np.int64)[inverse.reshape(-1)]


def _probabilities(loaded: Loaded, table: Table) -> np.ndarray | None:
    if loaded.predict_proba is None:
        return None
    try:
        with _quiet():
            proba = np.asarray(loaded.predict_proba(table.x), dtype=np.float64)
    except Exception:  # e.g. predict_proba only for some settings: AUC is then not measured
        return None
    return proba if proba.ndim == 2 else None


def _classes(loaded: Loaded, y: np.ndarray, pred: np.ndarray) -> tuple[str, ...]:
    known = getattr(loaded.model, "classes_", None) if loaded.format == "sklearn" else None
    if known is not None:
        return tuple(str(c) for c in canonical(known))
    return tuple(sorted({*y, *pred}, key=_order))  # ONNX: probabilities in sorted class order


def _order(label: str) -> tuple[int, float, str]:
    try:
        return 0, float(label), ""
    except ValueError:
        return 1, 0.0, label
