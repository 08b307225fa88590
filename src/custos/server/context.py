"""What every request reaches through `request.app.state`: the settings and the store."""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass, field
from typing import Any, cast

from fastapi import Request

from custos.catalog.catalog import Catalog
from custos.catalog.loader import load_catalog
from custos.server.auth.recent import Recent
from custos.server.list_cache import ListCache
from custos.server.report_cache import LatestReport
from custos.server.settings import Settings
from custos.store.ledger_witness import Witness
from custos.store.store import Store


@functools.cache
def shared_catalog() -> Catalog:
    """The catalog, loaded once per process (shipped plus the user's own frameworks)."""
    return load_catalog()


@dataclass(frozen=True)
class AppContext:
    settings: Settings
    store: Store
    reports: LatestReport = field(default_factory=LatestReport)
    principals: Recent = field(default_factory=Recent)  # who a credential was, a second ago
    lists: ListCache = field(default_factory=ListCache)  # inventory list pages as sent
    witness: Witness | None = None  # the ledger's checkpoints, kept outside the database

    def now(self) -> dt.datetime:
        return self.settings.clock()

    def latest_report(self) -> dict[str, Any] | None:
        """The newest assessment's report (shared: do not change it)."""
        found = self.reports.get(self.store)
        return found[1] if found is not None else None

    @property
    def catalog(self) -> Catalog:
        return shared_catalog()


def context(request: Request) -> AppContext:
    return cast(AppContext, request.app.state.custos)


def is_https(request: Request) -> bool:
    return request.url.scheme == "https"
