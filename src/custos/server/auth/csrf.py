"""CSRF tokens derived from the session: HMAC-SHA256 keyed with the session's secret token.

Nothing extra is stored: the server recomputes the token from the cookie it receives, a forged
cross-site request carries the cookie but cannot read it to compute the token, and the token
dies with the session. Forms send it as `csrf_token`; cookie-authenticated API calls send it
in the `X-CSRF-Token` header. Calls with a Bearer token are exempt (no ambient credential).
"""

from __future__ import annotations

import hashlib
import hmac

FORM_FIELD = "csrf_token"
HEADER = "X-CSRF-Token"
_LABEL = b"custos-csrf-v1"


def token_for(session_token: str) -> str:
    return hmac.new(session_token.encode("utf-8"), _LABEL, hashlib.sha256).hexdigest()


def valid(session_token: str, presented: str | None) -> bool:
    if not presented:
        return False
    return hmac.compare_digest(token_for(session_token), presented)
