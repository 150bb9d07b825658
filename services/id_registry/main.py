"""Builds the id_registry app: MOSIP-style ID authentication, eKYC, VIDs, PSUTs and events."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial
from typing import Any

from anyio import to_thread
from fastapi import FastAPI

from services.id_registry.base import Base
from services.id_registry.controls.routes import router as controls_router
from services.id_registry.controls.service import ExpectationCache
from services.id_registry.errors import error_shape, mosip_errors
from services.id_registry.events.drainer import id_registry_outbox
from services.id_registry.events.models import BIRTH, DEATH
from services.id_registry.events.routes import inbox_router
from services.id_registry.events.routes import router as events_router
from services.id_registry.ida import store
from services.id_registry.ida.batches import ThreadedGroupCommit
from services.id_registry.ida.commits import GroupCommit
from services.id_registry.ida.first import route_first
from services.id_registry.ida.keys import ServerKeyHolder
from services.id_registry.ida.people import PersonCache
from services.id_registry.ida.routes import router as ida_router
from services.id_registry.identities.routes import router as identities_router
from services.id_registry.oidc.clients import seed_client
from services.id_registry.oidc.provider import Oidc
from services.id_registry.oidc.routes import router as oidc_router
from services.id_registry.partners.certificates import keymanager_router
from services.id_registry.partners.certificates import router as certificates_router
from services.id_registry.partners.routes import router as partners_router
from services.id_registry.partners.service import PartnerCache
from services.id_registry.prebody import authenticate_headers
from services.id_registry.psuts.routes import router as psuts_router
from services.id_registry.runtime import Clock, IdRegistryRuntime
from services.id_registry.seed import seed
from services.id_registry.settings import IdRegistrySettings
from services.id_registry.vids.routes import router as vids_router
from services.id_registry.workers import declared
from services.kernel import openapi
from services.kernel.app import create_service_app
from services.kernel.db import Database, libpq_url
from services.kernel.limits import KiB
from services.kernel.mediator import ClientFactory, MediatorClient, Subscriber, Subscription
from services.kernel.outbox import Pacing
from services.kernel.reset import ResetHooks
from services.kernel.runtime import kernel_state, runtime_of, set_runtime
from services.kernel.security import Security, http, one
from services.kernel.seedcache import seed_through_cache
from services.kernel.settings import load_settings
from services.kernel.time import as_utc, utcnow

SERVICE = "id_registry"
BATCH_PATH = "/v1/identities/batch"
WAL_PAGES = 4000
# IDA's licence and API keys travel in its path (MOSIP's shape) and OIDC clients sign a JWT in
# the token request's form: neither is an OpenAPI scheme. Admin and mediator keys are the kernel's.
SECURITY = Security(
    schemes={"oidcAccessToken": http("bearer", "An access token from `POST /oauth/v2/token`.")},
    by_path={"/oidc/userinfo": (one("oidcAccessToken"),)},
)


def civil_subscriptions() -> list[Subscription]:
    """The civil register's events the ID system acts on, pushed to its inbox."""
    body = {"delivery": "PUSH", "pushPath": "/v1/events/inbox"}
    return [Subscription("registries", event_type, body) for event_type in (BIRTH, DEATH)]


def _loop_batches(database: Database, statements: store.Statements, people: PersonCache) -> Any:
    """PostgreSQL's event-loop batches (imported here: they need the driver)."""
    from services.id_registry.ida.loopbatches import LoopBatches
    from services.kernel.kept import connector

    return LoopBatches(
        connector(libpq_url(database.url), name="ida-loop-batches"), statements, people
    )


def create_app(
    settings: IdRegistrySettings | None = None,
    *,
    clock: Clock = utcnow,
    publisher: ClientFactory | None = None,
    run_drainer: bool = True,
    configure_logs: bool = True,
) -> FastAPI:
    """The app; tests inject a clock, a publisher client (fake mediator) or no drainer task."""
    settings = settings or load_settings(SERVICE, IdRegistrySettings)
    mediator = MediatorClient(SERVICE, secret=settings.sandbox_secret, client_factory=publisher)
    background = run_drainer and settings.publish_events
    subscriptions_wanted = settings.subscribe_civil_events

    partners, expectations, people = PartnerCache(), ExpectationCache(), PersonCache()
    secret, recorded_tokens = settings.token_secret(), set[str]()

    def run_seed(database: Database) -> None:
        with database.session() as session:
            seed(session=session, settings=settings, now=as_utc(clock()))

    def run_reseed(database: Database) -> None:
        run_seed(database)
        with database.session() as session:  # what the OIDC router's start adds to the seed
            seed_client(session=session, now=as_utc(clock()))

    async def reseed(app: FastAPI) -> None:
        await to_thread.run_sync(run_reseed, runtime_of(app, IdRegistryRuntime).database)

    def forget_here() -> None:
        partners.drop()
        expectations.drop()
        people.drop()
        recorded_tokens.clear()

    async def forget(app: FastAPI) -> None:
        forget_here()
        kernel_state(app).invalidation.announce("reset")

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        database = kernel_state(app).database
        shared = kernel_state(app).invalidation
        shared.share("partners", partners)
        shared.share("expectations", expectations)
        shared.share("people", people)
        shared.on("reset", forget_here)
        loop_connection = database.engine.raw_connection() if database.is_sqlite else None
        group_commit = None
        if loop_connection is not None:
            driver = loop_connection.dbapi_connection
            assert driver is not None
            # IDA's group commits checkpoint the WAL: every 16 MB rather than SQLite's 4 MB
            # blocks the event loop a quarter as often, for pages written a few times between.
            driver.execute(f"PRAGMA wal_autocheckpoint={WAL_PAGES}")
            group_commit = GroupCommit(driver)
        statements = store.statements(database.engine.dialect)
        batches = (
            None if database.is_sqlite else ThreadedGroupCommit(database.engine, statements, people)
        )
        loop_batches = None if database.is_sqlite else _loop_batches(database, statements, people)
        kernel = kernel_state(app)
        if settings.seed_on_start and kernel.schema_ready:
            cached = partial(
                seed_through_cache, kernel.seed_cache, database.url, partial(run_seed, database)
            )
            await to_thread.run_sync(cached)
        subscriptions = civil_subscriptions() if settings.subscribe_civil_events else []
        runtime = IdRegistryRuntime(
            settings=settings,
            database=database,
            clock=clock,
            partners=partners,
            expectations=expectations,
            secret=secret,
            recorded_tokens=recorded_tokens,
            people=people,
            statements=statements,
            group_commit=group_commit,
            batches=batches,
            loop_batches=loop_batches,
            keys=ServerKeyHolder(),
            oidc=Oidc.from_environment(),
            drainer=id_registry_outbox(
                database=database,
                mediator=mediator,
                clock=clock,
                pacing=Pacing(settings.drain_interval_seconds, settings.drain_max_backoff_seconds),
            ),
            subscriber=Subscriber(mediator, subscriptions, retry=settings.drain_interval_seconds),
        )
        set_runtime(app, runtime)
        try:
            yield
        finally:
            if loop_connection is not None:
                loop_connection.close()
            if batches is not None:
                await to_thread.run_sync(batches.close)
            if loop_batches is not None:
                await loop_batches.close()

    app = create_service_app(
        settings=settings,
        metadata=Base.metadata,
        routers=[
            ida_router,
            vids_router,
            identities_router,
            partners_router,
            certificates_router,
            keymanager_router,
            psuts_router,
            controls_router,
            events_router,
            inbox_router,
            oidc_router,
        ],
        error_renderer=mosip_errors,
        lifespan=lifespan,
        body_limits={
            BATCH_PATH: max(settings.max_body_bytes, 2 * KiB * settings.max_batch_enrolments)
        },
        authenticate_headers=authenticate_headers,
        configure_logs=configure_logs,
        workers=declared(background=background, subscriptions=subscriptions_wanted),
        # the service's own keys are loaded once per process: a reset keeps their rows with them
        reset=ResetHooks(seed=reseed, forget=forget, keep=("ida_key", "oidc_signing_key")),
        seed_cache=True,
    )
    route_first(app, ida_router.routes)
    openapi.install(app, error_shape, security=SECURITY)
    return app


app = create_app()
