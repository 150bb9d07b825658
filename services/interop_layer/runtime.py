"""What the running mediator keeps: one `InteropRuntime`, installed by the lifespan in `main.py`.

Routes read it through `RuntimeDep`; the short way in (`routing/entrance.py`) reads it once at
start-up. Admin changes replace the directory snapshot (assignment is atomic for readers), on
every replica (`services/kernel/invalidation.py`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends

from services.interop_layer.consent_gate.clients import DecisionClient, TokenExchanger
from services.interop_layer.directory import Directory, build_directory
from services.interop_layer.faults.models import FaultRule
from services.interop_layer.faults.store import FaultStore
from services.interop_layer.messagelog.writer import LogWriter
from services.interop_layer.pubsub.delivery import PushDispatcher
from services.interop_layer.routing.pool import UpstreamPool
from services.interop_layer.settings import InteropSettings
from services.kernel.db import Database
from services.kernel.runtime import kernel_state, runtime_getter, runtime_of


@dataclass(slots=True)
class InteropRuntime:
    settings: InteropSettings
    directory: Directory
    consent_partner: str  # the consent service's partner id at the ID system
    message_log: LogWriter
    forward_pool: UpstreamPool
    token_exchanger: TokenExchanger
    decision_client: DecisionClient
    dispatcher: PushDispatcher
    exchanges_in_flight: int = 0  # answered but not yet recorded (`Processing` in the status)
    faults: tuple[FaultRule, ...] = ()  # injected faults (admin API); empty: one read per call
    fault_store: FaultStore | None = None  # where `faults` are kept: set by the lifespan


def fault_store(runtime: InteropRuntime) -> FaultStore:
    store = runtime.fault_store
    if store is None:
        raise RuntimeError("the mediator's fault store is set up by its lifespan")
    return store


RuntimeDep = Annotated[InteropRuntime, Depends(runtime_getter(InteropRuntime))]


def load_directory(database: Database, settings: InteropSettings) -> Directory:
    with database.session() as session:
        return build_directory(session, secret=settings.sandbox_secret)


def refresh_directory(app: Any) -> Directory:
    """Rebuild this process's snapshot from the database."""
    runtime = runtime_of(app, InteropRuntime)
    runtime.directory = load_directory(kernel_state(app).database, runtime.settings)
    return runtime.directory


def reload_directory(app: Any) -> Directory:
    """Rebuild the snapshot after an admin change, here and on every other replica."""
    directory = refresh_directory(app)
    kernel_state(app).invalidation.announce("directory")
    return directory
