"""What the running registries service keeps, built at start-up and read through `RuntimeDep`."""

from __future__ import annotations

from dataclasses import dataclass

from services.kernel.db import Database
from services.kernel.outbox import Outbox
from services.kernel.workers import Worker
from services.registries.events.models import OutboxEvent
from services.registries.settings import RegistriesSettings


@dataclass(slots=True)
class RegistriesRuntime:
    settings: RegistriesSettings
    database: Database
    # Publishes the outbox's events through the mediator; None when the outbox is disabled.
    drainer: Outbox[OutboxEvent] | None = None
    # Seeds once the database answers, when start-up found none; None when start-up seeded.
    seeder: Worker | None = None
