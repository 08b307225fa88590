"""The rows of the authorisation matrix (tests/server/test_matrix.py): who may call a route and
what an allowed caller gets. Areas add rows in tests/server/rows_<area>.py (`ROWS`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

CALLERS = ("anonymous", "admin", "officer", "engineer_a", "auditor", "viewer", "engineer_b")
SYSTEM_A, SYSTEM_B = "fraud-scoring", "chargeback-bot"
ALL = frozenset(CALLERS) - {"anonymous"}
GLOBAL_READERS = frozenset({"admin", "officer", "auditor", "viewer"})


@dataclass(frozen=True)
class Case:
    allowed: frozenset[str]
    ok: int  # the status an allowed caller gets
    page: bool = False  # unauthenticated: a redirect to /login instead of 401
    public: bool = False
    body: Callable[[str], dict[str, Any]] | None = None
    path: str | None = None  # the concrete path when the route has parameters
