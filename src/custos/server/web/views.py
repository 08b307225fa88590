"""Shared view helpers of the web pages: what the caller may see of the latest assessment,
filters, pagination and the navigation. Views select and shape report data; the statuses,
scores and orderings were decided by the assessment and are never recomputed here.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse

from custos.catalog import Catalog
from custos.catalog.model import FrameworkId
from custos.server.context import context, shared_catalog
from custos.server.latest_view import latest_visible
from custos.server.rbac import Permission, Principal
from custos.server.visibility import Visible as Visible
from custos.server.visibility import sees_everything as sees_everything
from custos.server.web.render import Pages

Row = dict[str, Any]
READ = Permission.systems_read
PER_PAGE = 50
COLUMNS = 12  # a column per system while this many fit; more systems are counted per status
STATUSES = ("implemented", "partial", "not_implemented", "unknown", "not_applicable")
SOON_DAYS = 30  # "expiring soon" on the dashboard and the evidence page
EMPTY_HINT = (
    "No assessment yet: run `custos scan --push` and `custos assess --push` against this "
    "server, or `custos scan` and `custos assess` with `--db` naming its database."
)


def catalog() -> Catalog:
    """The catalog, loaded once per process: it only changes with `custos catalog import`,
    after which the server is restarted like after any upgrade."""
    return shared_catalog()


def framework_name(framework_id: str) -> str:
    found = catalog().frameworks.get(FrameworkId(framework_id))
    return found.name if found is not None else framework_id


# -- what the caller may see -----------------------------------------------------------------


def bound_systems(principal: Principal) -> list[str]:
    """The systems named in the caller's bindings that grant systems:read (for callers without
    a global binding, this is everything they may see)."""
    named = {b.system for b in principal.bindings if b.system is not None and b.grants(READ)}
    return principal.visible_systems(READ, sorted(named))


def visible_report(request: Request, principal: Principal) -> Visible | None:
    found = latest_visible(context(request), principal)
    return found[1] if found is not None else None


# -- filters and pages ----------------------------------------------------------------------


def matching(rows: Iterable[Row], **wanted: str | None) -> list[Row]:
    """Rows whose fields equal every given filter value (empty values do not filter)."""
    active = {k: v for k, v in wanted.items() if v}
    return [r for r in rows if all(str(r.get(k)) == v for k, v in active.items())]


def status_counts(per_system: Mapping[str, Any]) -> list[tuple[str, int]]:
    """(status, how many systems) in a fixed order; statuses no system has are left out."""
    counted = Counter(str(v) for v in per_system.values())
    known = [(s, counted.pop(s)) for s in STATUSES if s in counted]
    return known + sorted(counted.items())


def system_columns(systems: Sequence[str], chosen: str | None) -> list[str]:
    """The systems a status matrix shows as columns: the one chosen, else all while they fit
    on a screen, else none (the page counts them per status instead)."""
    if chosen:
        return [chosen]
    return list(systems) if len(systems) <= COLUMNS else []


def choices(rows: Iterable[Row], key: str) -> list[str]:
    return sorted({str(r[key]) for r in rows if r.get(key) is not None})


@dataclass(frozen=True)
class Paged:
    items: Sequence[Any]
    page: int
    pages: int
    total: int
    query: Mapping[str, str]  # the active filters, kept in the page links

    def link(self, page: int) -> str:
        return "?" + urlencode({**self.query, "page": str(page)})

    @property
    def first_index(self) -> int:
        return (self.page - 1) * PER_PAGE + 1 if self.total else 0


def paginate(items: Sequence[Any], page: int, query: Mapping[str, str | None]) -> Paged:
    """One page of `items`; a page past the end shows the last one."""
    pages = max(1, -(-len(items) // PER_PAGE))
    current = min(max(page, 1), pages)
    start = (current - 1) * PER_PAGE
    kept = {k: v for k, v in query.items() if v}
    return Paged(items[start : start + PER_PAGE], current, pages, len(items), kept)


def _day(value: str | dt.date | dt.datetime) -> dt.date:
    if isinstance(value, str):
        return dt.date.fromisoformat(value[:10])
    return value.date() if isinstance(value, dt.datetime) else value


def within_days(value: str | dt.date | dt.datetime | None, now: dt.datetime, days: int) -> bool:
    """True when an expiry date lies between today and `days` from now."""
    if not value:
        return False
    return now.date() <= _day(value) <= (now + dt.timedelta(days=days)).date()


def expired(value: str | dt.date | dt.datetime | None, now: dt.datetime) -> bool:
    """True when an expiry is past: a date on the day after it, a time right after it."""
    if not value:
        return False
    if isinstance(value, str) and len(value) > 10:
        value = dt.datetime.fromisoformat(value)
    if isinstance(value, dt.datetime):
        return value <= now
    return _day(value) < now.date()


# -- the page frame ---------------------------------------------------------------------------


@dataclass(frozen=True)
class NavItem:
    href: str
    label: str
    allowed: Callable[[Principal], bool]


def _any(permission: Permission) -> Callable[[Principal], bool]:
    return lambda p: p.can(permission, "any")


def _global(permission: Permission) -> Callable[[Principal], bool]:
    return lambda p: p.can(permission)


NAV = (
    NavItem("/", "Dashboard", _any(READ)),
    NavItem("/systems", "Systems", _any(READ)),
    NavItem("/risks", "Risks", _any(READ)),
    NavItem("/controls", "Controls", _any(READ)),
    NavItem("/soa", "SoA", _any(READ)),
    NavItem("/findings", "Findings", _any(READ)),
    NavItem("/evidence", "Evidence", _any(READ)),
    NavItem("/roadmap", "Roadmap", _any(READ)),
    NavItem("/ledger", "Ledger", _global(Permission.ledger_read)),
    NavItem("/activity", "Activity", _global(Permission.activity_read)),
    NavItem("/admin/users", "Admin", _global(Permission.users_manage)),
)


def nav(principal: Principal, path: str) -> list[dict[str, Any]]:
    """The links this caller may follow; `current` marks the section of `path`."""

    def current(href: str) -> bool:
        return path == href if href == "/" else path == href or path.startswith(href + "/")

    return [
        {"href": i.href, "label": i.label, "current": current(i.href)}
        for i in NAV
        if i.allowed(principal)
    ]


def page(
    pages: Pages,
    request: Request,
    principal: Principal,
    template: str,
    *,
    status: int = 200,
    **values: Any,
) -> HTMLResponse:
    """Render a signed-in page with its navigation."""
    return pages.render(
        template,
        principal=principal,
        status=status,
        nav=nav(principal, request.url.path),
        can_tokens=principal.can(Permission.tokens_create, "any"),
        empty_hint=EMPTY_HINT,
        **values,
    )
