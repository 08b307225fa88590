"""Loading a model to measure it, the only place Custos ever deserialises one: the file must be
marked `trusted` by the organisation (`--trusted` on the command line, `trusted: true` on the
asset), and the model-file scanner must find nothing at medium or above in it first. Pickle
formats (scikit-learn through joblib or pickle) are the reason: loading runs code the file
names. ONNX models go through onnxruntime, which runs no Python code from the file.

What is returned is a `Loaded` model with a uniform `predict` (and `predict_proba` where the
model has one), and the digest, format and library versions the evidence records.
"""

from __future__ import annotations

import importlib.metadata
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from custos._hashing import sha256_file
from custos.errors import UserError
from custos.findings import Severity

PICKLE_FORMATS = frozenset({"pickle", "joblib"})
ONNX_SUFFIXES = frozenset({".onnx"})


@dataclass(frozen=True)
class Loaded:
    path: Path
    sha256: str
    format: str  # "sklearn" | "onnx"
    model: Any  # the estimator, or the onnxruntime session
    predict: Callable[[Any], Any]
    predict_proba: Callable[[Any], Any] | None
    versions: dict[str, str] = field(default_factory=dict)
    scanned: str = ""  # what the scanner said, for the evidence


def versions(*packages: str) -> dict[str, str]:
    """Installed versions of the libraries that did the work (recorded with the evidence)."""
    found = {}
    for name in packages:
        try:
            found[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    return found


def gate(path: Path, trusted: bool) -> str:
    """Refuse to load unless trusted and scanned clean; what the scanner said otherwise.
    UserError (exit 2) names the file and the reason."""
    from custos.modelfile.policy import Policy
    from custos.modelfile.scan import scan_paths

    if not trusted:
        raise UserError(
            f"{path}: not marked trusted; Custos loads a model to measure it only when the "
            "organisation vouches for the file (--trusted, or `trusted: true` on the asset)"
        )
    if not path.is_file():
        raise UserError(f"{path}: no such model file")
    reports = scan_paths([path], Policy.default())
    worst = max((r.worst() or Severity.info for r in reports), default=Severity.info)
    blocking = [f for r in reports for f in r.findings if f.severity >= Severity.medium]
    if blocking or any(r.error for r in reports):
        reason = blocking[0].message if blocking else next(r.error for r in reports if r.error)
        raise UserError(f"{path}: the model-file scanner refused it ({reason}); not loaded")
    formats = ", ".join(sorted({r.format for r in reports}))
    return f"model-file scanner: {formats}, worst finding {worst.name}; loaded as trusted"


def load(path: Path, trusted: bool) -> Loaded:
    """The model at `path`, after `gate`. UserError for what cannot be loaded."""
    scanned = gate(path, trusted)
    digest = sha256_file(path)
    if path.suffix.lower() in ONNX_SUFFIXES:
        return _onnx(path, digest, scanned)
    return _sklearn(path, digest, scanned)


def _sklearn(path: Path, digest: str, scanned: str) -> Loaded:
    try:
        import joblib
    except ImportError:
        raise UserError("loading scikit-learn models needs joblib and scikit-learn: "
                        "pip install 'custos[robustness]'") from None  # fmt: skip
    try:
        model = joblib.load(path)  # trusted and scanned clean: see gate()
    except Exception as exc:  # a corrupt or foreign file: one line, not a traceback
        raise UserError(f"{path}: cannot load as a scikit-learn model: {exc}") from None
    if not hasattr(model, "predict"):
        raise UserError(f"{path}: {type(model).__name__} has no predict(): not a model")
    proba = getattr(model, "predict_proba", None)
    return Loaded(path, digest, "sklearn", model, model.predict, proba,
                  versions("scikit-learn", "joblib", "numpy"), scanned)  # fmt: skip


def _onnx(path: Path, digest: str, scanned: str) -> Loaded:
    try:
        import numpy as np
        import onnxruntime as ort
    except ImportError:
        raise UserError("ONNX models need onnxruntime: pip install onnxruntime") from None
    try:
        session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    except Exception as exc:
        raise UserError(f"{path}: onnxruntime cannot open it: {exc}") from None
    name = session.get_inputs()[0].name
    outputs = [o.name for o in session.get_outputs()]

    def run(x: Any) -> list[Any]:
        result: list[Any] = session.run(None, {name: np.asarray(x, dtype=np.float32)})
        return result

    def predict(x: Any) -> Any:
        return np.asarray(run(x)[0]).reshape(len(x), -1).squeeze(-1)

    proba = None
    if len(outputs) > 1:

        def proba(x: Any) -> Any:  # classifiers exported by skl2onnx: label, probabilities
            raw = run(x)[1]
            if isinstance(raw, list) and raw and isinstance(raw[0], dict):
                keys = sorted(raw[0])
                return np.array([[row[k] for k in keys] for row in raw])
            return np.asarray(raw)

    return Loaded(path, digest, "onnx", session, predict, proba,
                  versions("onnxruntime", "numpy"), scanned)  # fmt: skip
