"""PyTorch models in `custos robustness` (custos.assurance.robustness): a state dict in a
declared architecture, loaded by `custos.assurance.loading.load_torch` and nowhere else.

* `classifier`: the module in the table's terms. It takes the feature columns in the file's
  order and gives one output (a logit) per class. When every label is a whole number from 0 to
  outputs - 1, a label is its output's index (PyTorch's convention for CrossEntropy targets);
  otherwise the table's labels, sorted (numbers by value), are the outputs in order, and there
  must be as many as there are outputs.
* `gradients`: ART's `PyTorchClassifier` over the module (CrossEntropy loss, inputs clipped to
  each feature's observed range widened by the largest budget), for white-box FGSM and PGD.
* `settled`: at most 2 torch threads and torch's generator seeded, both put back after.

Every adversarial example is judged by the module itself (`Loaded.predict`), as for the other
formats.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import numpy as np

from custos.assurance.robustness_attacks import BOUNDS
from custos.assurance.tabular import Classifier, label_key
from custos.errors import UserError

if TYPE_CHECKING:
    from custos.assurance.loading import Loaded

THREADS = 2


def classifier(
    loaded: Loaded, x: np.ndarray, y: np.ndarray, features: list[str], where: str
) -> Classifier:
    """`loaded` (format "torch") over the rows of the table at `where`; UserError when the
    module cannot take the rows or its outputs do not match the labels."""
    import torch

    module = loaded.model
    try:
        with torch.no_grad():
            out = module(torch.as_tensor(x[:2], dtype=torch.float32))
    except Exception as exc:
        said = " ".join(str(exc).split())[:160] or type(exc).__name__
        raise UserError(f"{where}: the model cannot take the {len(features)} feature columns "
                        f"as a (rows, {len(features)}) float tensor: {said}") from None  # fmt: skip
    shape = tuple(out.shape) if isinstance(out, torch.Tensor) else None
    if shape is None or len(shape) != 2 or shape[1] < 2:
        raise UserError(f"{loaded.path}: the model must return one logit per class, (rows, "
                        f"classes) with 2 classes or more; it returned "
                        f"{shape if shape is not None else type(out).__name__}")  # fmt: skip
    width = shape[1]
    shown: dict[str, str] = {}
    for value in np.unique(y):
        shown.setdefault(label_key(value), str(value))
    values = [_number(k) for k in shown]
    if all(v is not None and v.is_integer() and 0 <= v < width for v in values):
        classes: tuple[Any, ...] = tuple(range(width))
    elif len(shown) == width:
        classes = tuple(shown[k] for k in sorted(shown, key=_natural))
    else:
        raise UserError(f"{where}: the model has {width} outputs; the labels are neither "
                        f"class indices 0 to {width - 1} nor {width} classes ({len(shown)} "
                        "found)")  # fmt: skip
    name = f"{type(module).__name__} (PyTorch, {loaded.architecture})"
    predict = loaded.predict
    return Classifier(classes, lambda rows: np.asarray(predict(rows), dtype=np.int64),
                      list(range(len(features))), [], name)  # fmt: skip


def gradients(
    loaded: Loaded, classes: int, rows: np.ndarray, eps: Sequence[float]
) -> tuple[Any, str]:
    """ART's PyTorchClassifier over the module, and why it is white-box."""
    import torch
    from art.estimators.classification import PyTorchClassifier

    low = rows.min(axis=0) - max(eps)
    high = rows.max(axis=0) + max(eps)
    wrapped = PyTorchClassifier(
        loaded.model, loss=torch.nn.CrossEntropyLoss(), input_shape=(rows.shape[1],),
        nb_classes=classes, clip_values=(low.astype(np.float32), high.astype(np.float32)),
        device_type="cpu",
    )  # fmt: skip
    why = (f"{type(loaded.model).__name__}: loss gradients from ART's PyTorchClassifier "
           f"(CrossEntropy; inputs clipped to {BOUNDS})")  # fmt: skip
    return wrapped, why


@contextmanager
def settled(seed: int) -> Iterator[None]:
    """At most THREADS torch threads and torch's generator seeded; both put back after."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(min(threads, THREADS))
    try:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            yield
    finally:
        torch.set_num_threads(threads)


def _number(key: str) -> float | None:
    try:
        return float(key)
    except ValueError:
        return None


def _natural(key: str) -> tuple[int, float, str]:
    number = _number(key)
    return (0, number, "") if number is not None else (1, 0.0, key)
