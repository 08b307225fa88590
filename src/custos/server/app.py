"""`create_app(settings)`: the FastAPI application, wired from the pieces of this package."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.concurrency import run_in_threadpool
from fastapi.staticfiles import StaticFiles

from custos import __version__
from custos.server import errors, health
from custos.server.api import (
    admin,
    assignments,
    inventory,
    ledger,
    ledger_keys,
    push,
    read,
    register,
    results,
    vulnerabilities,
)
from custos.server.context import AppContext
from custos.server.guards import check_declared
from custos.server.logging import log_event
from custos.server.middleware import AccessLog, BodyLimit, ForgetPrincipals, MiB, Wrap
from custos.server.security import SecurityHeaders
from custos.server.settings import Settings
from custos.server.web import activity as activity_pages
from custos.server.web import annex_iv as annex_iv_pages
from custos.server.web import controls as controls_pages
from custos.server.web import dashboard as dashboard_pages
from custos.server.web import evidence as evidence_pages
from custos.server.web import findings as findings_pages
from custos.server.web import ledger as ledger_pages
from custos.server.web import oidc_pages, pages
from custos.server.web import risks as risks_pages
from custos.server.web import roadmap as roadmap_pages
from custos.server.web import soa as soa_pages
from custos.server.web import systems as systems_pages
from custos.server.web import tokens as tokens_pages
from custos.server.web import users as users_pages
from custos.server.web import vulnerabilities as vulnerability_pages
from custos.server.web.mfa_pages import router as mfa_router
from custos.server.web.render import Pages, static_dir
from custos.server.witness import start_witness
from custos.store.errors import StoreError
from custos.store.store import Store


def body_limits(settings: Settings) -> list[tuple[str, int]]:
    """Larger bodies only where they belong: attestation documents and CI pushes."""
    return [
        ("/api/v1/attestations/", register.MAX_UPLOAD + MiB),
        ("/attestations/", register.MAX_UPLOAD + MiB),
        ("/api/v1/push/", settings.max_push),
    ]


def warm(ctx: AppContext, rendered: Pages) -> None:
    """Decode the latest report, work out the dashboard and compile the templates before
    serving: on a large estate that takes seconds, which the first visitors of each new
    process would otherwise wait for (and everyone queued behind them)."""
    rendered.warm()
    _ = ctx.catalog
    try:
        dashboard_pages.warm(rendered, ctx)
    except StoreError as exc:  # the first request will say what is wrong
        log_event("server.warm_skipped", logging.WARNING, error=type(exc).__name__)


def create_app(settings: Settings, store: Store | None = None) -> FastAPI:
    """The app over `store` (opened from `settings.db_url` when None; closed with the app only
    then). The database schema must be current: `custos serve` checks before starting."""
    owned = store is None
    the_store = store or Store.open(settings.db_url, settings.project_dir)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        await run_in_threadpool(warm, app.state.custos, rendered)
        yield
        if owned:
            the_store.close()

    app = FastAPI(
        lifespan=lifespan,
        title="Custos",
        version=__version__,
        docs_url=None,  # the interactive docs load scripts from a CDN, against the CSP
        redoc_url=None,
    )
    app.state.custos = AppContext(settings, the_store, witness=start_witness(settings, the_store))
    rendered = Pages()
    metrics = health.Metrics()
    errors.install(app, rendered)
    app.include_router(health.router(metrics))
    app.include_router(read.router)
    app.include_router(admin.router)
    for api in (
        inventory,
        register,
        assignments,
        results,
        ledger,
        ledger_keys,
        push,
        vulnerabilities,
    ):
        app.include_router(api.router)
    app.include_router(pages.router(rendered))
    app.include_router(oidc_pages.router(rendered))
    app.include_router(mfa_router(rendered))
    app.include_router(dashboard_pages.router(rendered))
    app.include_router(systems_pages.router(rendered))
    app.include_router(vulnerability_pages.router(rendered))
    app.include_router(annex_iv_pages.router(rendered))
    app.include_router(risks_pages.router(rendered))
    app.include_router(controls_pages.router(rendered))
    app.include_router(soa_pages.router(rendered))
    app.include_router(findings_pages.router(rendered))
    app.include_router(evidence_pages.router(rendered))
    app.include_router(roadmap_pages.router(rendered))
    app.include_router(ledger_pages.router(rendered))
    app.include_router(activity_pages.router(rendered))
    app.include_router(users_pages.router(rendered))
    app.include_router(tokens_pages.router(rendered))
    app.mount("/static", StaticFiles(directory=static_dir()), name="static")
    # The last added runs first: limits before anything reads a body, headers on every answer.
    app.add_middleware(ForgetPrincipals, recent=app.state.custos.principals)
    app.add_middleware(AccessLog)
    app.add_middleware(Wrap, wrap=metrics.wrap)
    app.add_middleware(SecurityHeaders)
    app.add_middleware(BodyLimit, default=settings.max_body, routes=body_limits(settings))
    check_declared(app)
    return app
