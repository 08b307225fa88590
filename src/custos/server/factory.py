"""The app for `custos serve --workers N`: uvicorn starts each worker process from an import
string, so the options `custos serve` checked travel in one environment variable."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from fastapi import FastAPI

from custos.server.app import create_app
from custos.server.auth.oidc import config_from_options
from custos.server.logging import configure
from custos.server.proxies import parse_networks
from custos.server.settings import Settings

CONFIG_ENV = "CUSTOS_SERVE_CONFIG"
OIDC_SECRET_ENV = "CUSTOS_OIDC_CLIENT_SECRET"  # noqa: S105  (the variable's name)


@dataclass(frozen=True)
class ServeOptions:
    """What `custos serve` was given (never a secret: the OIDC secret stays in its own
    variable)."""

    db: str | None
    directory: str
    secure_cookies: bool = False
    oidc_issuer: str | None = None
    oidc_client_id: str | None = None
    oidc_redirect_url: str | None = None
    oidc_link_by_username: bool = False
    trusted_proxies: tuple[str, ...] = ()
    ledger_witness: str | None = None

    def settings(self) -> Settings:
        oidc = config_from_options(
            self.oidc_issuer,
            self.oidc_client_id,
            os.environ.get(OIDC_SECRET_ENV),
            self.oidc_redirect_url,
            self.oidc_link_by_username,
        )
        return Settings(
            db_url=self.db,
            project_dir=Path(self.directory),
            secure_cookies=self.secure_cookies,
            trusted_proxies=parse_networks(self.trusted_proxies),
            oidc=oidc,
            ledger_witness=Path(self.ledger_witness) if self.ledger_witness else None,
        )

    def to_env(self) -> str:
        return json.dumps(self.__dict__)


def app_from_env() -> FastAPI:
    """uvicorn's factory in each worker process."""
    options = ServeOptions(**json.loads(os.environ[CONFIG_ENV]))
    configure()
    return create_app(options.settings())
