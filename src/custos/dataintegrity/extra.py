"""The optional `integrity` extra: scikit-learn (the model, IsolationForest) and cleanlab
(confident learning). Found without importing them: importing costs about two seconds."""

from __future__ import annotations

from importlib.util import find_spec

from custos.errors import UserError

MISSING_EXTRA = "data-integrity needs scikit-learn and cleanlab: pip install 'custos[integrity]'"


class MissingExtra(UserError):
    """scikit-learn or cleanlab is not installed."""


def available() -> bool:
    return all(find_spec(name) is not None for name in ("sklearn", "cleanlab"))


def require() -> None:
    if not available():
        raise MissingExtra(MISSING_EXTRA)
