"""A database that cannot be reached: StoreUnavailable with a clean, password-free message."""

from __future__ import annotations

import datetime as dt
import socket
from collections.abc import Callable
from pathlib import Path

import pytest

from custos.store import Store, StoreUnavailable


def _closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


CALLS: dict[str, Callable[[Store], object]] = {
    "is_current": lambda s: s.is_current(),
    "ensure_current": lambda s: s.ensure_current(auto_upgrade=True),
    "upgrade": lambda s: s.upgrade(),
    "latest_evidence": lambda s: s.latest_evidence(),
    "trend": lambda s: s.trend(),
    "save_scan": lambda s: s.save_scan(
        [],
        started_at=dt.datetime.now(dt.UTC),
        finished_at=dt.datetime.now(dt.UTC),
        manifest_path="custos.yaml",
        manifest_sha256="0" * 64,
    ),
}


@pytest.mark.parametrize("call", sorted(CALLS))
def test_unreachable_server(call: str, tmp_path: Path) -> None:
    port = _closed_port()
    url = f"postgresql://custos:hunter2@127.0.0.1:{port}/custos?password=hunter3"
    with Store.open(url, tmp_path, environ={}) as store, pytest.raises(StoreUnavailable) as caught:
        CALLS[call](store)
    message = str(caught.value)
    assert message.startswith(
        f"cannot open the database at postgresql+psycopg://custos@127.0.0.1:{port}/custos: "
    )
    assert message.endswith(
        "; check that the server runs, the host and port, and that the user may log in"
    )
    assert "\n" not in message
    assert "hunter" not in message


def test_sqlite_file_in_a_missing_directory(tmp_path: Path) -> None:
    missing = tmp_path / "no" / "such" / "dir" / "custos.db"
    store = Store.open(f"sqlite:///{missing}", tmp_path, environ={})
    with store, pytest.raises(StoreUnavailable) as caught:
        store.is_current()
    assert str(caught.value).startswith(f"cannot open the database at sqlite:///{missing}: ")
    assert str(caught.value).endswith("check that the directory exists and is writable")
    assert not missing.parent.exists()


def test_default_location_that_cannot_be_created(tmp_path: Path) -> None:
    not_a_dir = tmp_path / "custos.yaml"
    not_a_dir.write_text("organisation: x\n")
    with pytest.raises(StoreUnavailable, match="check that the directory exists and is writable"):
        Store.open(None, not_a_dir, environ={})
