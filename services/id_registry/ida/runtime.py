"""What every IDA call reads, gathered once at start-up: one attribute of the app's `State` per
request instead of a dozen (each lookup there is a Python-level `__getattr__`)."""

from __future__ import annotations

from dataclasses import dataclass

from anyio import CapacityLimiter

from services.id_registry.controls.service import ExpectationCache
from services.id_registry.deps import Clock
from services.id_registry.ida.commits import GroupCommit
from services.id_registry.ida.store import PersonCache, Statements
from services.id_registry.partners.service import PartnerCache
from services.id_registry.settings import IdRegistrySettings
from services.kernel.db import Database


@dataclass(slots=True)
class IdaRuntime:
    settings: IdRegistrySettings
    database: Database
    partners: PartnerCache
    expectations: ExpectationCache
    clock: Clock
    secret: bytes
    recorded_tokens: set[str]
    people: PersonCache
    statements: Statements
    # The event loop's connection and its group commit (SQLite); None on PostgreSQL.
    group_commit: GroupCommit | None
    limiter: CapacityLimiter
