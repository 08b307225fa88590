"""The public surface is deliberate: changing it must be a conscious decision."""

from __future__ import annotations

import types

import custos
import custos.catalog


def test_top_level_all() -> None:
    assert custos.__all__ == ["__version__", "catalog", "errors"]
    assert custos.__version__.count(".") == 2


def test_catalog_all_is_sorted_and_complete() -> None:
    public = {
        name
        for name, value in vars(custos.catalog).items()
        if not name.startswith("_") and not isinstance(value, types.ModuleType)
    }
    assert sorted(custos.catalog.__all__) == custos.catalog.__all__
    assert set(custos.catalog.__all__) == public
