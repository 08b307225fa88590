"""What the evaluation needs installed, and its defaults, importable without NumPy: the CLI
builds its options from these before anything heavy is imported."""

from __future__ import annotations

from importlib.util import find_spec

from custos.errors import UserError

MISSING_EXTRA = "evaluation needs scikit-learn and joblib: pip install 'custos[evaluation]'"
MIN_GROUP_SIZE = 30  # smaller subgroups are reported, not judged
REPEATS = 5  # permutation-importance repeats
MAX_REPEATS = 20


def available() -> bool:
    return all(find_spec(name) is not None for name in ("numpy", "sklearn", "joblib"))


def require() -> None:
    if not available():
        raise UserError(MISSING_EXTRA)
