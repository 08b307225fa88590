"""Matrix rows for a system's Annex IV documentation page: a report, so those who may download
reports (admin, security officer, auditor) read it; engineers and viewers do not."""

from __future__ import annotations

from tests.server.matrix_case import SYSTEM_A, Case

REPORTERS = frozenset({"admin", "officer", "auditor"})

ROWS: dict[tuple[str, str], Case] = {
    ("GET", "/systems/{system_id}/annex-iv"): Case(
        REPORTERS, 200, page=True, path=f"/systems/{SYSTEM_A}/annex-iv"
    ),
}
