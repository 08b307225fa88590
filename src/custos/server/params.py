"""Integers that requests bring in their path or query, bounded where they are declared.

An unbounded `int` parameter lets a caller send 2**63 or 10**30 into a query, where the driver
overflows (SQLite) or the database refuses it: a 500 or a 503 instead of "no such thing".
Ids are 32-bit integer columns, so nothing outside 1..2**31-1 exists: such a value is refused
as invalid (422) before the route runs. tests/server/test_int_params.py walks every route.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Query

MAX_ID = 2**31 - 1  # PostgreSQL INTEGER, as every id column is

RowId = Annotated[int, Path(ge=1, le=MAX_ID, description="A database id.")]
OptionalRowId = Annotated[int | None, Query(ge=1, le=MAX_ID)]
