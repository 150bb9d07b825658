"""Builds the consent app: Consent BB API, decisions, receipts, FHIR export, webhooks."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.concurrency import run_in_threadpool

from services.consent.agreements import routes as agreements
from services.consent.audit import routes as audit
from services.consent.base import Base
from services.consent.decisions import routes as decisions
from services.consent.decisions.log import DecisionLog
from services.consent.decisions.store import DecisionStore
from services.consent.deps import SECURITY
from services.consent.errors import error_shape, render_error
from services.consent.fhir import routes as fhir
from services.consent.individuals import routes as individuals
from services.consent.policies import routes as policies
from services.consent.prebody import authenticate_headers
from services.consent.receipts import routes as receipts
from services.consent.receipts.keystore import TABLE as SIGNING_KEY_TABLE
from services.consent.receipts.keystore import SignerHolder
from services.consent.records import routes as records
from services.consent.runtime import ConsentRuntime
from services.consent.seed import seed
from services.consent.settings import ConsentSettings
from services.consent.webhooks import routes as webhooks
from services.consent.workers import declared
from services.kernel import openapi
from services.kernel.app import create_service_app
from services.kernel.reset import ResetHooks
from services.kernel.runtime import kernel_state, set_runtime
from services.kernel.settings import load_settings

SERVICE = "consent"
log = logging.getLogger("dpi.consent")


def create_app(settings: ConsentSettings | None = None) -> FastAPI:
    settings = settings or load_settings(SERVICE, ConsentSettings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        database = kernel_state(app).database
        keys = SignerHolder(database, settings.data_dir)
        if kernel_state(app).schema_ready:
            await run_in_threadpool(keys.get)  # else on first use, once the database answers
            if settings.seed:
                with database.session() as session:
                    seed(session, settings)
        decision_log = DecisionLog(DecisionStore(database.engine))
        set_runtime(app, ConsentRuntime(settings, database, keys, decision_log))
        try:
            yield
        finally:
            await decision_log.stop()

    async def after_truncate(app: FastAPI) -> None:
        def run_seed() -> None:
            with kernel_state(app).database.session() as session:
                seed(session, settings)

        await run_in_threadpool(run_seed)

    app = create_service_app(
        settings=settings,
        metadata=Base.metadata,
        routers=[
            decisions.router,
            policies.router,
            agreements.router,
            individuals.router,
            webhooks.router,
            individuals.service_router,
            agreements.service_router,
            policies.service_router,
            audit.service_router,
            records.router,
            agreements.audit_router,
            audit.audit_router,
            receipts.router,
            fhir.router,
            audit.revisions_router,
        ],
        error_renderer=render_error,
        lifespan=lifespan,
        authenticate_headers=authenticate_headers,
        workers=declared(settings),
        reset=ResetHooks(seed=after_truncate, keep=(SIGNING_KEY_TABLE,)),
    )
    app.router.routes.insert(0, decisions.fast_route)
    openapi.install(app, error_shape, security=SECURITY)
    return app


app = create_app()
