"""Seed a fresh database: topology subsystems (always), default catalogue and rights (once)."""

from __future__ import annotations

import uuid
from typing import Any

from sqlmodel import Session

from services.interop_layer.catalogue.models import ServiceEntryCreate
from services.interop_layer.catalogue.service import load_catalogue_file, upsert_service
from services.interop_layer.config import InteropSettings
from services.interop_layer.members.models import SeedMarker
from services.interop_layer.members.service import seed_subsystems
from services.interop_layer.pubsub.models import EventType
from services.interop_layer.pubsub.rooms import find_event_type
from services.interop_layer.rights.models import AccessRightCreate
from services.interop_layer.rights.service import grant
from services.kernel.topology import load_topology

DEFAULT_SEED = "default-catalogue-v1"


def seed(*, session: Session, settings: InteropSettings) -> None:
    seed_subsystems(session=session, subsystems=load_topology().subsystems())
    if session.get(SeedMarker, DEFAULT_SEED) is not None:
        return
    apply_catalogue(session=session, data=load_catalogue_file(settings.catalogue_path))
    session.add(SeedMarker(name=DEFAULT_SEED))
    session.commit()


def apply_catalogue(*, session: Session, data: dict[str, Any]) -> None:
    """Services, rights and event types from a catalogue document (the YAML file's shape)."""
    for raw in data.get("services") or []:
        upsert_service(session=session, data=ServiceEntryCreate.model_validate(raw))
    for raw in data.get("rights") or []:
        grant(session=session, data=AccessRightCreate.model_validate(raw))
    for raw in data.get("eventTypes") or []:
        room, name = str(raw["room"]), str(raw["eventType"])
        if find_event_type(session=session, room=room, name=name) is None:
            session.add(
                EventType(
                    id=str(uuid.uuid4()),
                    room=room,
                    event_type=name,
                    schema_=raw.get("schema") or {"type": "object"},
                )
            )
    session.commit()
