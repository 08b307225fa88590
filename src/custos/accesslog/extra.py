"""The optional `monitor` extra: DuckDB (parsing and aggregation), NumPy (the detections and
the isolation forest) and threadpoolctl. Found without importing them."""

from __future__ import annotations

from importlib.util import find_spec

from custos.errors import UserError

MISSING_EXTRA = (
    "custos monitor needs duckdb, numpy and threadpoolctl: pip install 'custos[monitor]'"
)


class MissingExtra(UserError):
    """DuckDB, NumPy or threadpoolctl is not installed."""


def available() -> bool:
    return all(find_spec(name) is not None for name in ("duckdb", "numpy", "threadpoolctl"))


def require() -> None:
    if not available():
        raise MissingExtra(MISSING_EXTRA)
