"""Fixtures for the integrity tests: a key pair on disk and a model directory per test."""

from __future__ import annotations

from pathlib import Path

import pytest

from custos.integrity.keys import KeyFiles, write_key_pair
from tests.integrity.pki import PASSPHRASE, make_model


@pytest.fixture
def keys(tmp_path: Path) -> KeyFiles:
    return write_key_pair(tmp_path / "keys", "release", PASSPHRASE)


@pytest.fixture
def model(tmp_path: Path) -> Path:
    return make_model(tmp_path)
