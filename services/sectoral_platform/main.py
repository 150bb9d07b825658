"""Builds the sectoral_platform app: a DHIS2-compatible Web API over one metadata store."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial

from fastapi import FastAPI
from fastapi.concurrency import run_in_threadpool

from services.kernel import openapi
from services.kernel.app import create_service_app
from services.kernel.claims import StreamClaim
from services.kernel.credentials import partner_id
from services.kernel.limits import BULK_BODY_LIMIT, STREAMED_BODY_LIMIT
from services.kernel.mediator import MediatorClient
from services.kernel.partner_keys import sandbox_partner_key
from services.kernel.reset import ResetHooks
from services.kernel.runtime import kernel_state, runtime_of, set_runtime
from services.kernel.seedcache import seed_through_cache
from services.kernel.settings import load_settings
from services.sectoral_platform.aggregate.jobs import ValueSetJobs
from services.sectoral_platform.aggregate.routes import router as aggregate_router
from services.sectoral_platform.aggregate.storage import install_hooks
from services.sectoral_platform.aggregate.tasks import router as tasks_router
from services.sectoral_platform.analytics.routes import router as analytics_router
from services.sectoral_platform.apps.routes import router as apps_router
from services.sectoral_platform.auth.deps import SECURITY
from services.sectoral_platform.auth.routes import router as auth_router
from services.sectoral_platform.auth.service import Authenticator
from services.sectoral_platform.base import Base
from services.sectoral_platform.completeness.routes import router as completeness_router
from services.sectoral_platform.datastore.routes import router as datastore_router
from services.sectoral_platform.dhis2.web import Dhis2PathMiddleware
from services.sectoral_platform.errors import ERROR_SHAPE, render_web_message
from services.sectoral_platform.event_analytics.routes import router as event_analytics_router
from services.sectoral_platform.events.civil import BirthConsumer
from services.sectoral_platform.events.outbox import platform_outbox
from services.sectoral_platform.events.routes import router as events_router
from services.sectoral_platform.facility_registry.routes import router as facility_registry_router
from services.sectoral_platform.facility_registry.sync import FacilitySync
from services.sectoral_platform.identity.ida import IdaClient
from services.sectoral_platform.identity.routes import router as identity_router
from services.sectoral_platform.identity.sealing import fernet
from services.sectoral_platform.identity.service import Registrar
from services.sectoral_platform.metadata.describe import router as describe_router
from services.sectoral_platform.metadata.routes import router as metadata_router
from services.sectoral_platform.metadata.store import MetadataStore
from services.sectoral_platform.opendata.routes import router as opendata_router
from services.sectoral_platform.prebody import authenticate_headers
from services.sectoral_platform.routes_api.routes import router as routes_api_router
from services.sectoral_platform.runtime import SectoralRuntime
from services.sectoral_platform.seed.loader import seed
from services.sectoral_platform.settings import SectoralSettings
from services.sectoral_platform.sharing.routes import router as sharing_router
from services.sectoral_platform.sqlite_tuning import tune_sqlite
from services.sectoral_platform.system.routes import router as system_router
from services.sectoral_platform.tracker.jobs import JobRunner
from services.sectoral_platform.tracker.routes import router as tracker_router
from services.sectoral_platform.tracker_counts.routes import router as tracker_counts_router
from services.sectoral_platform.validation.routes import router as validation_router
from services.sectoral_platform.workers import declared

SERVICE = "sectoral_platform"
FACILITY_SYNC = "sectoral_platform-facility-sync"  # the claim on the sync (replicas)
BULK_IMPORTS = ("/api/dataValueSets", "/api/metadata", "/api/tracker")
METADATA_TOPIC = "metadata"  # the read model's writes, announced to the other replicas
STREAMED_MEDIA = ("application/csv", "text/csv", "application/xml", "text/xml")


def create_app(settings: SectoralSettings | None = None) -> FastAPI:
    settings = settings or load_settings(SERVICE, SectoralSettings)
    mediator = MediatorClient(SERVICE, secret=settings.sandbox_secret)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        database = kernel_state(app).database
        tune_sqlite(database)
        engine = database.engine
        store = MetadataStore(engine)
        kernel = kernel_state(app)
        # followed before it is loaded: a write by another replica in between is not missed
        store.announce = kernel.invalidation.follow(METADATA_TOPIC, store.refresh)
        await run_in_threadpool(store.load)
        install_hooks(store, engine)
        await run_in_threadpool(
            seed_through_cache, kernel.seed_cache, database.url, partial(seed, store, settings)
        )
        ida = IdaClient(
            license_key=settings.ida_license_key,
            api_key=settings.ida_api_key,
            mediator=mediator,
            own_key=sandbox_partner_key(partner_id(mediator.member_id))
            if settings.ida_sealed
            else None,
        )
        runtime = SectoralRuntime(
            settings=settings,
            metadata=store,
            authenticator=Authenticator(store),
            system_id=system_id(settings),
            registrar=Registrar(engine, store, ida, fernet(settings.pending_key)),
            facility_sync=FacilitySync(
                engine, store, asyncio.Lock(), mediator, StreamClaim(engine, FACILITY_SYNC)
            ),
            tracker_jobs=JobRunner(engine, store),
            outbox=platform_outbox(engine, mediator, settings.drain_interval_seconds),
            birth_consumer=BirthConsumer(engine, store),
            value_set_jobs=ValueSetJobs(engine, lease=settings.value_set_job_lease_seconds),
        )
        await run_in_threadpool(runtime.value_set_jobs.settle_stopped)
        set_runtime(app, runtime)
        yield

    async def reseed(app: FastAPI) -> None:
        store = runtime_of(app, SectoralRuntime).metadata
        await run_in_threadpool(store.load)
        await run_in_threadpool(seed, store, settings)
        await run_in_threadpool(store.announce)

    async def forget(app: FastAPI) -> None:
        store = runtime_of(app, SectoralRuntime).metadata
        await run_in_threadpool(store.load)
        await run_in_threadpool(store.announce)

    app = create_service_app(
        settings=settings,
        metadata=Base.metadata,
        # specific routers first: the generic `/api/{collection}` routes come last
        routers=[
            system_router,
            auth_router,
            aggregate_router,
            completeness_router,
            tasks_router,
            analytics_router,
            event_analytics_router,
            tracker_counts_router,
            tracker_router,
            identity_router,
            sharing_router,
            facility_registry_router,
            events_router,
            opendata_router,
            datastore_router,
            apps_router,
            routes_api_router,
            validation_router,
            describe_router,
            metadata_router,
        ],
        error_renderer=render_web_message,
        lifespan=lifespan,
        body_limits={
            **{prefix: BULK_BODY_LIMIT for prefix in BULK_IMPORTS},
            "/api/apps": settings.app_max_bytes + 64 * 1024,  # the bundle and its multipart frame
        },
        # data value sets are imported as they arrive (memory stays flat); `async=true` reads
        # the body whole, within BULK_BODY_LIMIT (`exchange.read_body`)
        typed_body_limits={
            ("/api/dataValueSets", media): STREAMED_BODY_LIMIT
            for media in (
                "application/json",
                "application/csv",
                "text/csv",
                "application/xml",
                "text/xml",
                "application/dxf2+xml",
                "application/adx+xml",
            )
        },
        authenticate_headers=authenticate_headers,
        workers=declared(settings, mediator),
        reset=ResetHooks(seed=reseed, forget=forget),
        seed_cache=True,
    )
    openapi.install(app, ERROR_SHAPE, security=SECURITY)
    app.add_middleware(Dhis2PathMiddleware)
    _replace_root(app)
    return app


def _replace_root(app: FastAPI) -> None:
    """DHIS2 clients follow a redirect on the base URL and adopt it as their new base, so `/`
    answers in place (the kernel's default sends `/` to `/docs`)."""

    @app.get("/", include_in_schema=False)
    async def root() -> dict[str, str]:
        return {"name": "DPI Sandbox sectoral platform", "api": "/api", "docs": "/docs"}

    app.router.routes.insert(0, app.router.routes.pop())  # ahead of the kernel's `/`


def system_id(settings: SectoralSettings) -> str:
    import uuid

    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"dpi-sandbox:{settings.database()}"))


app = create_app()
