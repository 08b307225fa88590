"""The optional `guard` extra: aiohttp (the upstream client), NumPy (live extraction scoring)
and redis (buckets shared by replicas). Found without importing them."""

from __future__ import annotations

from importlib.util import find_spec

from custos.errors import UserError

MISSING_EXTRA = "custos guard needs aiohttp, numpy and redis: pip install 'custos[guard]'"


class MissingExtra(UserError):
    """aiohttp, NumPy or redis is not installed."""


def available() -> bool:
    return all(find_spec(name) is not None for name in ("aiohttp", "numpy", "redis"))


def require() -> None:
    if not available():
        raise MissingExtra(MISSING_EXTRA)
