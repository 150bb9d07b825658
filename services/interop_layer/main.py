"""Builds the interop_layer app: the information mediator."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial

from fastapi import FastAPI
from fastapi.concurrency import run_in_threadpool
from starlette.types import ASGIApp

from services.interop_layer.auth import SECURITY
from services.interop_layer.base import Base
from services.interop_layer.catalogue.routes import admin as catalogue_admin
from services.interop_layer.catalogue.routes import meta as metaservices
from services.interop_layer.consent_gate.clients import (
    DecisionClient,
    HttpDecisionClient,
    HttpTokenExchanger,
    TokenExchanger,
)
from services.interop_layer.errors import error_shape_for, render_xroad_error
from services.interop_layer.faults.routes import router as faults_admin
from services.interop_layer.faults.store import FaultStore
from services.interop_layer.members.routes import router as members_admin
from services.interop_layer.messagelog.chain import load_or_create_key
from services.interop_layer.messagelog.middleware import ExchangeLogMiddleware
from services.interop_layer.messagelog.routes import public as messagelog_public
from services.interop_layer.messagelog.routes import router as messagelog_admin
from services.interop_layer.messagelog.trust import trust_dir
from services.interop_layer.messagelog.writer import LogWriter
from services.interop_layer.prebody import authenticate_headers
from services.interop_layer.pubsub.admin_routes import router as pubsub_admin
from services.interop_layer.pubsub.declared import declare_subscriptions
from services.interop_layer.pubsub.delivery import PushDispatcher
from services.interop_layer.pubsub.push import make_push_session
from services.interop_layer.pubsub.routes import router as pubsub
from services.interop_layer.rights.routes import router as rights_admin
from services.interop_layer.routing.entrance import MediatorEntrance
from services.interop_layer.routing.forward import make_pool
from services.interop_layer.runtime import (
    InteropRuntime,
    fault_store,
    load_directory,
    refresh_directory,
    reload_directory,
)
from services.interop_layer.seed import seed
from services.interop_layer.settings import InteropSettings, load_interop_settings
from services.interop_layer.workers import declared
from services.kernel import openapi
from services.kernel.app import create_service_app
from services.kernel.credentials import partner_id
from services.kernel.http import make_client
from services.kernel.reset import ResetHooks
from services.kernel.runtime import kernel_state, runtime_of, set_runtime
from services.kernel.seedcache import seed_through_cache
from services.kernel.topology import load_topology, service_url

log = logging.getLogger("dpi.interop")
MESSAGE_LOG_TABLES = ("im_log_record", "im_log_mark", "im_log_key")


def create_app(
    settings: InteropSettings | None = None,
    *,
    token_exchanger: TokenExchanger | None = None,
    decision_client: DecisionClient | None = None,
) -> FastAPI:
    """The mediator; tests inject fakes for the ID system's and the consent service's clients."""
    settings = settings or load_interop_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        kernel = kernel_state(app)
        database = kernel.database

        def run_seed() -> None:
            with database.session() as session:
                seed(session=session, settings=settings)

        seed_through_cache(kernel.seed_cache, database.url, run_seed)
        directory = load_directory(database, settings)
        if settings.declared_subscriptions:  # before the first publication is accepted
            with database.session() as session:
                topology = load_topology()
                declare_subscriptions(session=session, topology=topology, directory=directory)
        consent_member = load_topology().member_id("consent")
        writer = LogWriter(
            database,
            load_or_create_key(settings.state_dir() / "messagelog.pem"),
            group_delay=settings.message_log_flush_interval,
            commit_delay=settings.message_log_commit_delay,
            trust=trust_dir(settings.state_dir()),
            anchor_interval=settings.message_log_anchor_interval,
            signature_interval=settings.message_log_signature_interval,
            replica=settings.replica_id(),
        )
        writer.open()
        writer.start()
        kernel.readiness.append(writer.unready)
        forward_pool = make_pool(settings)
        push_session = make_push_session(settings)
        async with contextlib.AsyncExitStack() as stack:
            timeout = settings.http_timeout
            if token_exchanger is None:
                id_client = make_client(service_url("id_registry"), timeout=timeout)
                await stack.enter_async_context(id_client)
                exchanger: TokenExchanger = HttpTokenExchanger(id_client, settings.sandbox_secret)
            else:
                exchanger = token_exchanger
            if decision_client is None:
                consent_client = make_client(service_url("consent"), timeout=timeout)
                await stack.enter_async_context(consent_client)
                decider: DecisionClient = HttpDecisionClient(
                    consent_client, settings.sandbox_secret
                )
            else:
                decider = decision_client

            def entitled(subscriber: str, room: str, event_type: str) -> bool:
                return runtime.directory.allowed(subscriber, room, "sub", "POST", f"/{event_type}")

            dispatcher = PushDispatcher(
                database=database,
                settings=settings,
                session=push_session,
                writer=writer,
                entitled=entitled,
            )
            runtime = InteropRuntime(
                settings=settings,
                directory=directory,
                consent_partner=partner_id(consent_member or "DPI/GOV/DPA/consent"),
                message_log=writer,
                forward_pool=forward_pool,
                token_exchanger=exchanger,
                decision_client=decider,
                dispatcher=dispatcher,
            )
            runtime.fault_store = FaultStore(database, kernel.invalidation, runtime)
            await run_in_threadpool(runtime.fault_store.refresh)  # rules other replicas hold
            set_runtime(app, runtime)
            kernel_state(app).invalidation.on("directory", partial(refresh_directory, app))
            dispatcher.start()
            try:
                yield
            finally:
                await dispatcher.stop()
                await writer.stop()
                kernel.readiness.remove(writer.unready)
                await push_session.aclose()
                await forward_pool.close()

    async def reseed(app: FastAPI) -> None:
        """Topology, catalogue, rights and declared subscriptions; the message log is kept (an
        audit log: its hash chain goes on)."""
        database = kernel_state(app).database

        def run() -> None:
            with database.session() as session:
                seed(session=session, settings=settings)
            if settings.declared_subscriptions:
                with database.session() as session:
                    directory = load_directory(database, settings)
                    declare_subscriptions(
                        session=session, topology=load_topology(), directory=directory
                    )

        await run_in_threadpool(run)

    async def forget(app: FastAPI) -> None:
        await run_in_threadpool(fault_store(runtime_of(app, InteropRuntime)).forget)
        await run_in_threadpool(reload_directory, app)

    app = create_service_app(
        settings=settings,
        metadata=Base.metadata,
        routers=[
            metaservices,
            pubsub,
            members_admin,
            catalogue_admin,
            rights_admin,
            messagelog_admin,
            messagelog_public,
            pubsub_admin,
            faults_admin,
        ],
        error_renderer=render_xroad_error,
        lifespan=lifespan,
        authenticate_headers=authenticate_headers,
        workers=declared(settings),
        reset=ResetHooks(seed=reseed, forget=forget, keep=MESSAGE_LOG_TABLES),
        seed_cache=True,
        # Traces are the kernel's (W3C context, its own exporter); FastAPI's OpenTelemetry SDK
        # bridge would only look up providers and environment variables on every request.
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    openapi.install(app, error_shape_for, security=SECURITY)
    app.add_middleware(ExchangeLogMiddleware)  # outermost: sees every answer, errors included
    build_stack = app.build_middleware_stack

    def build_with_entrance() -> ASGIApp:
        """Calls to provider services take the short way in (FastAPI builds its stack lazily)."""
        return MediatorEntrance(
            build_stack(),
            unexpected=app.exception_handlers.get(Exception),
            max_body=settings.max_forward_body_bytes,
        )

    app.build_middleware_stack = build_with_entrance  # type: ignore[method-assign]
    return app


app = create_app()
