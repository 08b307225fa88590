"""The server's settings: one frozen value handed to `create_app`, built by `custos serve`."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from ipaddress import IPv4Network, IPv6Network
from pathlib import Path

from custos.server.auth.oidc import OidcConfig
from custos.server.auth.sessions import SessionPolicy
from custos.server.auth.throttle import ThrottlePolicy


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass(frozen=True)
class Settings:
    """`db_url` None means the default SQLite file under `project_dir` (as the CLI)."""

    db_url: str | None = None
    project_dir: Path = field(default_factory=Path.cwd)  # default database and ledger key
    secure_cookies: bool = False  # also Secure when the request itself is HTTPS
    # Peers whose X-Forwarded-For is believed (custos.server.proxies); empty: nobody's.
    trusted_proxies: tuple[IPv4Network | IPv6Network, ...] = ()
    sessions: SessionPolicy = field(default_factory=SessionPolicy)
    throttle: ThrottlePolicy = field(default_factory=ThrottlePolicy)
    token_max_days: int = 365
    max_body: int = 1024 * 1024  # bytes of any other request body (forms, JSON)
    max_push: int = 256 * 1024 * 1024  # `custos scan --push`: a large estate's evidence
    oidc: OidcConfig | None = None  # single sign-on with OpenID Connect; None: passwords only
    # A directory outside the database where every signed ledger checkpoint is witnessed
    # (custos.store.ledger_witness); None: no witness, the ledger is checked against itself.
    ledger_witness: Path | None = None
    # Injected so tests can move time (idle expiry, lockout windows) without sleeping.
    clock: Callable[[], dt.datetime] = utcnow
