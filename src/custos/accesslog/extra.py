"""The optional `monitor` extra: DuckDB (parsing and aggregation), NumPy and scikit-learn (the
isolation forest). Found without importing them."""

from __future__ import annotations

from importlib.util import find_spec

from custos.errors import UserError

MISSING_EXTRA = "custos monitor needs duckdb, numpy and scikit-learn: pip install 'custos[monitor]'"


class MissingExtra(UserError):
    """DuckDB, NumPy or scikit-learn is not installed."""


def available() -> bool:
    return all(find_spec(name) is not None for name in ("duckdb", "numpy", "sklearn"))


def require() -> None:
    if not available():
        raise MissingExtra(MISSING_EXTRA)
