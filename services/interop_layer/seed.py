"""Seed a fresh database: topology subsystems (always), default catalogue and rights (once)."""

from __future__ import annotations

import uuid
from typing import Any

from sqlmodel import Session

from services.interop_layer.catalogue.models import ServiceEntry, ServiceEntryCreate
from services.interop_layer.catalogue.service import load_catalogue_file, upsert_service
from services.interop_layer.directory import EndpointRule
from services.interop_layer.identifiers import service_id
from services.interop_layer.members.models import SeedMarker
from services.interop_layer.members.service import seed_subsystems
from services.interop_layer.pubsub.models import EventType
from services.interop_layer.pubsub.rooms import find_event_type
from services.interop_layer.rights.models import AccessRightCreate
from services.interop_layer.rights.service import grant
from services.interop_layer.settings import InteropSettings
from services.kernel.topology import load_topology

DEFAULT_SEED = "default-catalogue-v1"
# v2: consent-gated services name exactly the paths they serve (v1 opened them with `GET /*`)
EXACT_CONSENT_PATHS = "default-catalogue-v2"


def seed(*, session: Session, settings: InteropSettings) -> None:
    seed_subsystems(session=session, subsystems=load_topology().subsystems())
    if session.get(SeedMarker, EXACT_CONSENT_PATHS) is not None:
        return
    data = load_catalogue_file(settings.catalogue_path)
    if session.get(SeedMarker, DEFAULT_SEED) is None:
        apply_catalogue(session=session, data=data)
        session.add(SeedMarker(name=DEFAULT_SEED))
    else:
        narrow_consent_services(session=session, data=data)
    session.add(SeedMarker(name=EXACT_CONSENT_PATHS))
    session.commit()


def narrow_consent_services(*, session: Session, data: dict[str, Any]) -> None:
    """A database seeded by v1: its consent-gated services still open with wildcards get the
    catalogue file's exact endpoints (the directory ignores such wildcards meanwhile)."""
    for raw in data.get("services") or []:
        wanted = ServiceEntryCreate.model_validate(raw)
        if not wanted.consent_required:
            continue
        stored = session.get(ServiceEntry, service_id(wanted.provider, wanted.service_code))
        if stored is None or not stored.consent_required:
            continue
        if any(EndpointRule.of(e).wildcard for e in stored.endpoints):
            upsert_service(session=session, data=wanted)


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
