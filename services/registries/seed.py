"""The registries' built-in content: the built-in registries and the generated facility list."""

from __future__ import annotations

import logging

from services.kernel.db import Database
from services.registries.catalog.builtin import builtin_registries
from services.registries.catalog.service import save_registry
from services.registries.facilities import service as facility_service
from services.registries.facilities.generator import size_for
from services.registries.settings import RegistriesSettings

log = logging.getLogger("dpi.registries")


def seed(database: Database, settings: RegistriesSettings) -> None:
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
