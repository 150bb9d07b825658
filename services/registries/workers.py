"""The registries' background work, declared here and run by the kernel's workers."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

import anyio.to_thread
from fastapi import FastAPI
from sqlalchemy.exc import SQLAlchemyError

from services.kernel.db import Database
from services.kernel.runtime import runtime_of
from services.kernel.startlock import starting_alone
from services.kernel.workers import Worker, WorkerFactory
from services.registries.runtime import RegistriesRuntime
from services.registries.seed import seed
from services.registries.settings import RegistriesSettings

log = logging.getLogger("dpi.registries.workers")


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
                await anyio.to_thread.run_sync(self.create_and_seed)
                return
            except SQLAlchemyError as exc:
                log.warning("database not reachable yet, seeding later: %s", exc)
                await asyncio.sleep(2)

    def create_and_seed(self) -> None:
        with starting_alone(self.database.url, "registries"):  # not with another replica
            self.database.create_all()
            seed(self.database, self.settings)


def declared() -> list[WorkerFactory]:
    """The seeder when start-up found no database, the outbox when it is enabled."""

    def seeder(app: FastAPI) -> Worker | None:
        return runtime_of(app, RegistriesRuntime).seeder

    def outbox(app: FastAPI) -> Worker | None:
        return runtime_of(app, RegistriesRuntime).drainer

    return [seeder, outbox]
