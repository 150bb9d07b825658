"""What the running ID system keeps: built once at start-up, read by routes through `RuntimeDep`
(the IDA hot path reads it with `runtime_of`: one attribute of the app's `State` per request
instead of a dozen, each lookup there being a Python-level `__getattr__`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from services.id_registry.controls.service import ExpectationCache
from services.id_registry.events.models import OutboxEvent
from services.id_registry.ida.batches import ThreadedGroupCommit
from services.id_registry.ida.commits import GroupCommit
from services.id_registry.ida.keys import ServerKeyHolder
from services.id_registry.ida.people import PersonCache
from services.id_registry.ida.store import Statements
from services.id_registry.oidc.provider import Oidc
from services.id_registry.partners.service import PartnerCache
from services.id_registry.settings import IdRegistrySettings
from services.kernel.db import Database
from services.kernel.mediator import Subscriber
from services.kernel.outbox import Outbox

if TYPE_CHECKING:  # imported on PostgreSQL only: it needs the driver
    from services.id_registry.ida.loopbatches import LoopBatches

Clock = Callable[[], datetime]


@dataclass(slots=True)
class IdRegistryRuntime:
    settings: IdRegistrySettings
    database: Database
    clock: Clock
    partners: PartnerCache
    expectations: ExpectationCache
    # The PSUT key (`settings.token_secret()`), and the PSUTs known to be stored already.
    secret: bytes
    recorded_tokens: set[str]
    people: PersonCache
    statements: Statements
    # The event loop's connection and its group commit (SQLite); None on PostgreSQL.
    group_commit: GroupCommit | None
    # PostgreSQL's group commit, on a worker thread's connection; None on SQLite.
    batches: ThreadedGroupCommit | None
    # PostgreSQL's group commit of transactions that only read and defer (by UIN, no OTP).
    loop_batches: LoopBatches | None
    # The ID system's partner-encryption and response-signing keys, loaded on first use.
    keys: ServerKeyHolder
    oidc: Oidc
    drainer: Outbox[OutboxEvent]
    subscriber: Subscriber
