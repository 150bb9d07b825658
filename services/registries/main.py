"""Builds the registries app: schema-driven registries, facility registry, civil register."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import anyio.to_thread
import httpx
from fastapi import FastAPI
from sqlalchemy.exc import SQLAlchemyError

from services.kernel import openapi
from services.kernel.app import create_service_app
from services.kernel.db import Database
from services.kernel.mediator import MediatorClient
from services.kernel.outbox import Outbox, Pacing
from services.kernel.settings import load_settings
from services.registries.base import Base
from services.registries.catalog import routes as catalog_routes
from services.registries.catalog.builtin import builtin_registries
from services.registries.catalog.service import save_registry
from services.registries.data import routes as data_routes
from services.registries.errors import error_shape, render
from services.registries.events import routes as event_routes
from services.registries.events.drainer import registries_outbox
from services.registries.facility import routes as facility_routes
from services.registries.facility import service as facility_service
from services.registries.facility.generator import size_for
from services.registries.prebody import authenticate_headers
from services.registries.settings import RegistriesSettings

SERVICE = "registries"
log = logging.getLogger("dpi.registries")


def _seed(database: Database, settings: RegistriesSettings) -> None:
    with database.session() as session:
        for spec in builtin_registries():
            save_registry(
                session,
                body=spec.body,
                actor="registries",
                builtin=True,
                event_on_create=spec.event_on_create,
                view=spec.view,
            )
        added = facility_service.seed(
            session,
            size=size_for(settings.facility_size, settings.national_facilities),
            seed_value=settings.facility_seed,
        )
    if added:
        log.info("facility list generated: %d places (%s)", added, settings.facility_size)


@dataclass
class SeedWhenReachable:
    """A worker for when the database was down at start: seed as soon as it answers (readiness
    waits for it)."""

    database: Database
    settings: RegistriesSettings
    name: str = "registries-seed"

    async def run(self) -> None:
        while True:
            try:
                await anyio.to_thread.run_sync(self.database.create_all)
                await anyio.to_thread.run_sync(lambda: _seed(self.database, self.settings))
                return
            except SQLAlchemyError as exc:
                log.warning("database not reachable yet, seeding later: %s", exc)
                await asyncio.sleep(2)


def create_app(
    settings: RegistriesSettings | None = None,
    *,
    mediator_transport: httpx.AsyncBaseTransport | None = None,
) -> FastAPI:
    """The app; `mediator_transport` lets tests put a fake mediator behind the drainer."""
    settings = settings or load_settings(SERVICE, RegistriesSettings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        database: Database = app.state.database
        app.state.drainer = None
        app.state.seeder = None
        if app.state.schema_ready:
            _seed(database, settings)
        else:
            app.state.seeder = SeedWhenReachable(database, settings)
        if settings.outbox_enabled:
            mediator = MediatorClient(
                SERVICE,
                secret=settings.sandbox_secret,
                base_url=settings.mediator_url,
                transport=mediator_transport,
            )
            app.state.drainer = registries_outbox(
                database=database,
                mediator=mediator,
                pacing=Pacing(
                    settings.outbox_interval, settings.outbox_max_backoff, settings.outbox_batch
                ),
            )
        yield

    def outbox_worker(app: FastAPI) -> Outbox[Any] | None:
        drainer: Outbox[Any] | None = app.state.drainer
        return drainer

    def seed_worker(app: FastAPI) -> SeedWhenReachable | None:
        seeder: SeedWhenReachable | None = app.state.seeder
        return seeder

    app = create_service_app(
        settings=settings,
        metadata=Base.metadata,
        routers=[
            data_routes.router,
            catalog_routes.router,
            facility_routes.router,
            facility_routes.admin,
            event_routes.router,
        ],
        error_renderer=render,
        lifespan=lifespan,
        authenticate_headers=authenticate_headers,
        workers=[seed_worker, outbox_worker],
    )
    openapi.install(app, error_shape)
    return app


app = create_app()
