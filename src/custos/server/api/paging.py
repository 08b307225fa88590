"""Pagination and filtering shared by the list routes: `?limit=&offset=`, answered as
`{"items": [...], "total": N, "limit": L, "offset": O}`."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Query
from pydantic import BaseModel

from custos.server.rbac import Permission, Principal

T = TypeVar("T")
R = TypeVar("R")

Limit = Annotated[int, Query(ge=1, le=500, description="Items per page.")]
Offset = Annotated[int, Query(ge=0, le=10_000_000, description="Items to skip.")]


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int
    limit: int
    offset: int


def page(rows: Sequence[T], limit: int, offset: int) -> Page[T]:
    return Page[T](
        items=list(rows[offset : offset + limit]), total=len(rows), limit=limit, offset=offset
    )


def page_of(rows: Sequence[R], limit: int, offset: int, build: Callable[[R], T]) -> Page[T]:
    """A page whose items are built (validated) from the raw rows of that page only."""
    items = [build(row) for row in rows[offset : offset + limit]]
    return Page[T](items=items, total=len(rows), limit=limit, offset=offset)


def visible(
    principal: Principal,
    rows: Iterable[T],
    systems: Callable[[T], Iterable[str]],
    permission: Permission = Permission.systems_read,
) -> list[T]:
    """The rows the caller may see: a row about several systems shows when one of them is
    visible; a row about no system in particular (empty) only to callers with a global view."""
    shown = []
    for row in rows:
        named = list(systems(row))
        if named:
            ok = any(principal.can(permission, "system", s) for s in named)
        else:
            ok = principal.can(permission)
        if ok:
            shown.append(row)
    return shown


def filtered(rows: Sequence[dict[str, Any]], **wanted: str | None) -> Sequence[dict[str, Any]]:
    """The rows `matches` keeps; the rows themselves when no filter is given."""
    if all(v is None for v in wanted.values()):
        return rows
    return [row for row in rows if matches(row, **wanted)]


def matches(row: dict[str, Any], **wanted: str | None) -> bool:
    """True when every given filter equals the row's field (lists: contains)."""
    for field, value in wanted.items():
        if value is None:
            continue
        have = row.get(field)
        if isinstance(have, list):
            if value not in have:
                return False
        elif have != value:
            return False
    return True
