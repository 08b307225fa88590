"""Authorisation matrix rows for the two-factor pages (src/custos/server/web/mfa_pages.py).

Every signed-in user manages their own second factor. The matrix posts empty forms: an allowed
caller gets 422 (the password or code field is missing) before anything changes.
"""

from __future__ import annotations

from tests.server.matrix_case import ALL, Case

ROWS: dict[tuple[str, str], Case] = {
    ("GET", "/account/two-factor"): Case(ALL, 200, page=True),
    ("POST", "/account/two-factor/enrol"): Case(ALL, 422, page=True),
    ("POST", "/account/two-factor/confirm"): Case(ALL, 422, page=True),
    ("POST", "/account/two-factor/disable"): Case(ALL, 422, page=True),
}
