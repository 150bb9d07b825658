"""Builds the registries app: schema-driven registries, facility registry, civil register."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from fastapi import FastAPI
from fastapi.concurrency import run_in_threadpool

from services.kernel import openapi
from services.kernel.app import create_service_app
from services.kernel.mediator import MediatorClient
from services.kernel.outbox import Pacing
from services.kernel.reset import ResetHooks
from services.kernel.runtime import kernel_state, set_runtime
from services.kernel.settings import load_settings
from services.registries.base import Base
from services.registries.catalog import routes as catalog_routes
from services.registries.data import routes as data_routes
from services.registries.deps import SECURITY
from services.registries.errors import error_shape, render
from services.registries.events import routes as event_routes
from services.registries.events.drainer import registries_outbox
from services.registries.facilities import routes as facilities_routes
from services.registries.prebody import authenticate_headers
from services.registries.runtime import RegistriesRuntime
from services.registries.seed import seed
from services.registries.settings import RegistriesSettings
from services.registries.workers import SeedWhenReachable, declared

SERVICE = "registries"
log = logging.getLogger("dpi.registries")


def create_app(
    settings: RegistriesSettings | None = None,
    *,
    mediator_transport: httpx.AsyncBaseTransport | None = None,
) -> FastAPI:
    """The app; `mediator_transport` lets tests put a fake mediator behind the drainer."""
    settings = settings or load_settings(SERVICE, RegistriesSettings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        database = kernel_state(app).database
        runtime = RegistriesRuntime(settings, database)
        if kernel_state(app).schema_ready:
            seed(database, settings)
        else:
            runtime.seeder = SeedWhenReachable(database, settings)
        if settings.outbox_enabled:
            mediator = MediatorClient(
                SERVICE,
                secret=settings.sandbox_secret,
                base_url=settings.mediator_url,
                transport=mediator_transport,
            )
            runtime.drainer = registries_outbox(
                database=database,
                mediator=mediator,
                pacing=Pacing(
                    settings.outbox_interval, settings.outbox_max_backoff, settings.outbox_batch
                ),
            )
        set_runtime(app, runtime)
        yield

    async def after_truncate(app: FastAPI) -> None:
        await run_in_threadpool(seed, kernel_state(app).database, settings)

    app = create_service_app(
        settings=settings,
        metadata=Base.metadata,
        routers=[
            data_routes.router,
            catalog_routes.router,
            facilities_routes.router,
            facilities_routes.admin,
            event_routes.router,
        ],
        error_renderer=render,
        lifespan=lifespan,
        authenticate_headers=authenticate_headers,
        workers=declared(),
        reset=ResetHooks(seed=after_truncate),
    )
    openapi.install(app, error_shape, security=SECURITY)
    return app


app = create_app()
