"""Build a service's FastAPI app on the kernel: settings, database, errors, tracing, probes."""

from __future__ import annotations

import gc
import logging
from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager, contextmanager
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, RedirectResponse
from sqlalchemy import MetaData
from sqlalchemy.exc import SQLAlchemyError
from starlette.middleware import Middleware
from starlette.types import ASGIApp

from services.kernel import otel
from services.kernel.db import Database
from services.kernel.docs import docs_kwargs, install_docs
from services.kernel.errors import ErrorRenderer, install_error_handlers, problem_details
from services.kernel.invalidation import CatchUpMiddleware, Invalidation
from services.kernel.limits import BodyLimits, HeaderCheck, RequestLimitsMiddleware
from services.kernel.logs import AccessLogMiddleware, configure_logging
from services.kernel.outage import failure_reason
from services.kernel.outage_guard import OutageGuardMiddleware
from services.kernel.reset import Baseline, ResetHooks, reset_router
from services.kernel.runtime import KernelState, kernel_state
from services.kernel.seedcache import seed_cache_for, sqlite_file
from services.kernel.settings import ServiceSettings
from services.kernel.startlock import StartLock, starting_alone
from services.kernel.topology import load_topology
from services.kernel.tracing import TraceMiddleware
from services.kernel.workers import WorkerFactory, Workers

log = logging.getLogger("dpi.app")

Lifespan = Callable[[FastAPI], AbstractAsyncContextManager[None]]

# Requests that wait (a commit, an upstream call) keep their objects alive side by side, so under
# load CPython's default young-generation threshold (700) is crossed many times a second with no
# garbage to find, and every tenth pass of the older generations walks the whole start-up heap.
GC_YOUNG_THRESHOLD = 10_000

HEALTHZ, READYZ = "/healthz", "/readyz"
PROBES = frozenset({HEALTHZ, READYZ})  # answer for the process itself: no catching up first


class ServiceApp(FastAPI):
    """A service's app: a database outage raised by any middleware, the service's included, is
    answered by the outermost one (`outage_guard`), whatever was added after the kernel's."""

    outage_renderer: ErrorRenderer = problem_details

    def build_middleware_stack(self) -> ASGIApp:
        guard = Middleware(OutageGuardMiddleware, renderer=self.outage_renderer)
        self.user_middleware.insert(0, guard)
        try:
            return super().build_middleware_stack()
        finally:
            self.user_middleware.remove(guard)


def create_service_app(
    *,
    settings: ServiceSettings,
    metadata: MetaData | None = None,
    routers: Sequence[APIRouter] = (),
    error_renderer: ErrorRenderer = problem_details,
    lifespan: Lifespan | None = None,
    body_limits: Mapping[str, int] | None = None,
    typed_body_limits: Mapping[tuple[str, str], int] | None = None,
    authenticate_headers: HeaderCheck | None = None,
    version: str = "0.1.0",
    configure_logs: bool = True,
    workers: Sequence[WorkerFactory] = (),
    reset: ResetHooks | None = None,
    seed_cache: bool = False,
    **fastapi_kwargs: Any,
) -> FastAPI:
    """A FastAPI app for `settings.service` with probes, `/info`, error shape and tracing.

    Bodies are capped at `settings.max_body_bytes`, or `body_limits[prefix]` under a path prefix,
    or `typed_body_limits[(prefix, media type)]` for a route that streams that format;
    `authenticate_headers` refuses a request with a body whose credentials fail, before it is read.
    `workers` are built once the lifespans (the service's and its routers') have started, and
    stopped before they end.
    `reset` (with `metadata`) adds `POST /admin/reset`, back to the freshly seeded state; a start
    on an empty database keeps what the service's lifespan seeded as that state.
    `seed_cache`: a first start may copy in a pre-built seeded database (`kernel.seed_cache`;
    the service seeds through `services.kernel.seedcache.seed_through_cache`).
    """
    spec = load_topology().service(settings.service)
    member_id = load_topology().member_id(spec.name)
    baseline = Baseline.of(metadata, reset) if reset is not None and metadata is not None else None

    @asynccontextmanager
    async def kernel_lifespan(app: FastAPI) -> AsyncIterator[None]:
        if configure_logs:
            configure_logging(spec.name, level=settings.log_level, fmt=settings.log_format)
        target = sqlite_file(settings.database())
        if seed_cache and target is not None and not target.exists():  # a first start
            cache = seed_cache_for(settings, metadata)
            kernel.seeded_from_cache = cache is not None and cache.restore(target)
            kernel.seed_cache = None if kernel.seeded_from_cache else cache
        database = Database(settings.database(), metadata)
        otel.start_exporter(spec.name, engines=[database.engine])
        kernel._database = database
        # replicas starting together: one at a time from here until every lifespan has seeded
        start_lock = kernel.start_lock = StartLock(database.url, spec.name)
        await run_in_threadpool(start_lock.acquire)
        kernel.schema_ready = _try_create_schema(database)
        kernel.invalidation.start(database)
        if baseline is not None:  # does this start seed from nothing (or from the seed cache)?
            empty = kernel.schema_ready and (
                kernel.seeded_from_cache or await run_in_threadpool(baseline.is_empty, database)
            )
            baseline.start(from_start=empty)
        try:
            if lifespan is None:
                yield
            else:
                async with lifespan(app):
                    yield
        finally:
            start_lock.release()
            kernel.invalidation.stop()
            database.dispose()
            otel.stop_exporter()

    app = ServiceApp(
        title=f"DPI Sandbox — {spec.title}",
        description=f"{spec.role}. Models: {spec.models}.",
        version=version,
        lifespan=kernel_lifespan,
        **{**docs_kwargs(), **fastapi_kwargs},
    )
    postgres = settings.database().startswith("postgres")
    install_error_handlers(app, error_renderer, postgres=postgres)
    app.outage_renderer = error_renderer
    limits = BodyLimits(
        default=settings.max_body_bytes,
        prefixes=dict(body_limits or {}),
        typed=dict(typed_body_limits or {}),
    )
    kernel = KernelState(
        settings=settings,
        service=spec,
        request_limits=limits,
        authenticate_headers=authenticate_headers,
        invalidation=Invalidation(spec.name),
    )
    app.state.kernel = kernel
    app.add_middleware(
        RequestLimitsMiddleware,
        limits=limits,
        renderer=error_renderer,
        authenticate=authenticate_headers,
    )
    app.add_middleware(AccessLogMiddleware)
    app.add_middleware(TraceMiddleware)
    # what other replicas changed, applied before the credentials and the route read it
    app.add_middleware(CatchUpMiddleware, invalidation=kernel.invalidation, skip=PROBES)

    probes = APIRouter(tags=["probes"])

    @probes.get(HEALTHZ, summary="The process is alive")
    async def healthz() -> dict[str, str]:
        return {"status": "ok", "service": spec.name}

    @probes.get(READYZ, summary="The service's database answers", response_model=None)
    def readyz(request: Request) -> dict[str, Any] | JSONResponse:
        database = kernel.database
        try:
            database.ping()
            if not kernel.schema_ready:
                with starting_alone(database.url, spec.name):
                    database.create_all()
                kernel.schema_ready = True
        except SQLAlchemyError as exc:
            return JSONResponse(
                {"status": "unavailable", "service": spec.name, "database": failure_reason(exc)},
                status_code=503,
            )
        for check in kernel.readiness:
            if (missing := check()) is not None:
                body = {"status": "unavailable", "service": spec.name, "database": "ok"}
                return JSONResponse({**body, "reason": missing}, status_code=503)
        return {"status": "ready", "service": spec.name, "database": "ok"}

    @probes.get("/info", summary="What this service is and which upstream system it models")
    async def info() -> dict[str, Any]:
        return {
            "name": spec.name,
            "title": spec.title,
            "role": spec.role,
            "models": spec.models,
            "memberId": member_id,
            "version": version,
            "dependsOn": list(spec.depends_on),
        }

    @probes.get("/", include_in_schema=False)
    async def root() -> RedirectResponse:
        return RedirectResponse("/docs")

    app.include_router(probes)
    install_docs(app)
    if reset is not None and baseline is not None:
        app.include_router(reset_router(baseline, reset))
    for router in routers:
        app.include_router(router)
    app.router.lifespan_context = _serving(app.router.lifespan_context, workers, baseline)
    return app


def _serving(
    starting: Callable[[FastAPI], AbstractAsyncContextManager[Any]],
    factories: Sequence[WorkerFactory],
    baseline: Baseline | None,
) -> Callable[[FastAPI], AbstractAsyncContextManager[Any]]:
    """The whole start (the kernel's, the service's and its routers' lifespans), then, before any
    worker runs or any request is served, the seeded rows kept as the reset baseline; then the
    start-up lock goes to the next replica."""

    @asynccontextmanager
    async def serving(app: FastAPI) -> AsyncIterator[Any]:
        async with starting(app) as state:
            kernel = kernel_state(app)
            try:
                if baseline is not None and baseline.from_start:
                    await run_in_threadpool(baseline.keep_seeded, kernel.database)
            finally:
                if kernel.start_lock is not None:  # the next replica may start now
                    await run_in_threadpool(kernel.start_lock.release)
            async with _running(app, factories):
                yield state

    return serving


@asynccontextmanager
async def _running(app: FastAPI, factories: Sequence[WorkerFactory]) -> AsyncIterator[None]:
    running = Workers()
    kernel_state(app)._workers = running
    running.start(w for w in (factory(app) for factory in factories) if w is not None)
    try:
        with _startup_heap_frozen():
            yield
    finally:
        await running.stop()


@contextmanager
def _startup_heap_frozen() -> Iterator[None]:
    """While serving: what start-up built is never scanned again, and young collections are rare.

    No collection first: on a large heap (a test process) it costs more than the little garbage
    it would free, and that garbage is collected after `unfreeze` anyway."""
    threshold = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(GC_YOUNG_THRESHOLD, *threshold[1:])
    try:
        yield
    finally:
        gc.set_threshold(*threshold)
        gc.unfreeze()


def _try_create_schema(database: Database) -> bool:
    try:
        database.create_all()
    except SQLAlchemyError as exc:
        log.warning("database not reachable at start; /readyz will retry: %s", exc)
        return False
    return True
