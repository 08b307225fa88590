"""Shared fixtures: every test gets its own CUSTOS_HOME so nothing touches the real one."""

from __future__ import annotations

from pathlib import Path

import pytest

from custos.catalog.catalog import Catalog
from custos.catalog.loader import load_catalog


@pytest.fixture(autouse=True)
def custos_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path_factory.mktemp("custos-home")
    monkeypatch.setenv("CUSTOS_HOME", str(home))
    return home


@pytest.fixture(scope="session")
def shipped() -> Catalog:
    """The catalog exactly as shipped (no user files)."""
    return load_catalog(include_user=False)
