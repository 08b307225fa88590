"""What every request reaches through `request.app.state`: the settings and the store."""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass
from typing import cast

from fastapi import Request

from custos.catalog.catalog import Catalog
from custos.catalog.loader import load_catalog
from custos.server.settings import Settings
from custos.store.store import Store


@functools.cache
def _catalog() -> Catalog:
    return load_catalog()


@dataclass(frozen=True)
class AppContext:
    settings: Settings
    store: Store

    def now(self) -> dt.datetime:
        return self.settings.clock()

    @property
    def catalog(self) -> Catalog:
        """The catalog, loaded once per process (shipped plus the user's own frameworks)."""
        return _catalog()


def context(request: Request) -> AppContext:
    return cast(AppContext, request.app.state.custos)


def client_address(request: Request) -> str:
    """The peer address (a proxy's own address behind one; see docs/server.md)."""
    return request.client.host if request.client else "unknown"


def is_https(request: Request) -> bool:
    return request.url.scheme == "https"
