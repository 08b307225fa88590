"""Matrix rows for the ledger verifier keys of a system (/api/v1/systems/{id}/ledger-keys):
anyone who may see the system reads them; registering and retiring is governance (never an
engineer, who pushes the results the keys verify)."""

from __future__ import annotations

from custos.ledger.checkpoint import generate_log_key
from tests.server.matrix_case import GLOBAL_READERS, SYSTEM_A, Case

KEYS = "/api/v1/systems/{system_id}/ledger-keys"
A_KEYS = f"/api/v1/systems/{SYSTEM_A}/ledger-keys"
REGISTRARS = frozenset({"admin", "officer"})

ROWS: dict[tuple[str, str], Case] = {
    ("GET", KEYS): Case(GLOBAL_READERS | {"engineer_a"}, 200, path=A_KEYS),
    ("POST", KEYS): Case(
        REGISTRARS,
        201,
        path=A_KEYS,
        body=lambda c: {"verifier_key": generate_log_key(f"ci-{c}")[1], "label": c},
    ),
    ("DELETE", f"{KEYS}/{{key_id}}"): Case(REGISTRARS, 404, path=f"{A_KEYS}/999999"),
}
