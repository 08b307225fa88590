"""Matrix rows for single sign-on (custos.server.web.oidc_pages). Both routes are public; the
matrix server has no OpenID Connect provider configured, so they answer 404 to everyone."""

from __future__ import annotations

from tests.server.matrix_case import ALL, Case

ROWS: dict[tuple[str, str], Case] = {
    ("GET", "/login/oidc"): Case(ALL, 404, public=True),
    ("GET", "/login/oidc/callback"): Case(ALL, 404, public=True),
}
