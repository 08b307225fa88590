"""Matrix rows for a system's tracked vulnerabilities (API and page): whoever may see the system
reads them; accepting or reopening one is risk acceptance (risks:write on the system), never
the engineer whose pushes reported it. No such vulnerability: a decider gets 404 (API, reopen)
or the page again naming the missing date (422)."""

from __future__ import annotations

from tests.server.matrix_case import GLOBAL_READERS, SYSTEM_A, Case

API = f"/api/v1/systems/{SYSTEM_A}/vulnerabilities"
PAGE = f"/systems/{SYSTEM_A}/vulnerabilities"
READERS = GLOBAL_READERS | {"engineer_a"}
DECIDERS = frozenset({"admin", "officer"})
ACCEPT = {"reason": "not reachable from outside the batch job", "expires": "2099-01-01"}

ROWS: dict[tuple[str, str], Case] = {
    ("GET", "/api/v1/systems/{system_id}/vulnerabilities"): Case(READERS, 200, path=API),
    ("POST", "/api/v1/systems/{system_id}/vulnerabilities/{vuln_id}/accept"): Case(
        DECIDERS, 404, path=f"{API}/999999/accept", body=lambda _c: ACCEPT
    ),
    ("POST", "/api/v1/systems/{system_id}/vulnerabilities/{vuln_id}/reopen"): Case(
        DECIDERS, 404, path=f"{API}/999999/reopen"
    ),
    ("GET", "/systems/{system_id}/vulnerabilities"): Case(READERS, 200, page=True, path=PAGE),
    ("POST", "/systems/{system_id}/vulnerabilities/{vuln_id}/accept"): Case(
        DECIDERS, 422, page=True, path=f"{PAGE}/999999/accept"
    ),
    ("POST", "/systems/{system_id}/vulnerabilities/{vuln_id}/reopen"): Case(
        DECIDERS, 404, page=True, path=f"{PAGE}/999999/reopen"
    ),
}
