"""Load the generated list once, read places, and the admin changes (add, rename, move)."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta

from sqlalchemy import func, insert
from sqlmodel import Session, col, select

from services.kernel.claims import one_writer_at_a_time
from services.kernel.errors import Conflict, NotFound, ValidationFailed
from services.kernel.time import utcnow
from services.registries.facilities import directory
from services.registries.facilities.directory import DirectoryEntry
from services.registries.facilities.generator import Size, generate
from services.registries.facilities.history import keep_version
from services.registries.facilities.models import FacilityCreate, FacilityUpdate, Place

# Writes take strictly increasing `lastUpdated` stamps, so `_lastUpdated=gt<last seen>` never
# misses a change: stamps are assigned and committed one writer at a time, in this process (the
# lock) and among replicas (a transaction lock, taken before the stamp is read).
_write_lock = threading.Lock()
WRITERS = "registries-facility-writes"


def seed(session: Session, *, size: Size, seed_value: int) -> int:
    """Insert the generated hierarchy and the services and practitioners of its facilities if the
    list is empty; returns how many places it added."""
    if session.exec(select(func.count()).select_from(Place)).one():
        return 0
    now = utcnow()
    places = generate(size, seed_value)
    stamped = {"last_updated": now, "version_id": 1}
    rows = [{**row, **stamped} for row in places]
    for start in range(0, len(rows), 2000):
        session.execute(insert(Place), rows[start : start + 2000])
    entries = [{**row, **stamped} for row in directory.generate(places, seed_value)]
    for start in range(0, len(entries), 2000):
        session.execute(insert(DirectoryEntry), entries[start : start + 2000])
    session.commit()
    return len(rows)


def get_place(session: Session, *, place_id: str) -> Place:
    place = session.get(Place, place_id)
    if place is None:
        raise NotFound(f"no Location or Organization with id {place_id!r}.")
    return place


def get_resource(session: Session, *, resource_type: str, ident: str) -> Place | DirectoryEntry:
    if resource_type in ("Location", "Organization"):
        return get_place(session, place_id=ident)
    entry = session.get(DirectoryEntry, (resource_type, ident))
    if entry is None:
        raise NotFound(f"no {resource_type} with id {ident!r}.")
    return entry


def _stamp(session: Session) -> datetime:
    latest = session.exec(select(func.max(Place.last_updated))).one()
    now = utcnow()
    if latest is not None and now <= latest:
        return latest + timedelta(microseconds=1)
    return now


def _district(session: Session, district_id: str) -> Place:
    district = session.get(Place, district_id)
    if district is None or district.level != "district":
        raise ValidationFailed(
            f"district: {district_id!r} is not a district of the hierarchy.",
            errors=[{"field": "district", "rule": "district", "message": "unknown district"}],
        )
    return district


def add_facility(session: Session, *, body: FacilityCreate) -> Place:
    with _write_lock:
        session.rollback()  # a fresh snapshot: the stamp must follow every committed one
        one_writer_at_a_time(session.connection(), WRITERS)
        district = _district(session, body.district)
        code = body.code or _next_code(session, district.id)
        if session.get(Place, code) is not None:
            raise Conflict(f"a place with code {code!r} already exists.")
        place = Place(
            id=code,
            name=body.name,
            level="facility",
            type_code=body.type,
            parent_id=district.id,
            latitude=body.latitude if body.latitude is not None else district.latitude,
            longitude=body.longitude if body.longitude is not None else district.longitude,
            last_updated=_stamp(session),
        )
        session.add(place)
        session.commit()
    return place


def _next_code(session: Session, district_id: str) -> str:
    taken = set(session.exec(select(Place.id).where(Place.parent_id == district_id)).all())
    n = len(taken) + 1
    while f"{district_id}-F{n:03d}" in taken or _exists(session, f"{district_id}-F{n:03d}"):
        n += 1
    return f"{district_id}-F{n:03d}"


def _exists(session: Session, place_id: str) -> bool:
    return session.get(Place, place_id) is not None


def update_facility(session: Session, *, place_id: str, body: FacilityUpdate) -> Place:
    """Rename, move or change status; the code stays, the version and `lastUpdated` advance."""
    with _write_lock:
        session.rollback()  # a fresh snapshot: the stamp must follow every committed one
        one_writer_at_a_time(session.connection(), WRITERS)
        place = get_place(session, place_id=place_id)
        original = Place.model_validate(place.model_dump())
        if place.level != "facility":
            raise Conflict(f"{place_id} is a {place.level}; only facilities change here.")
        changed = False
        if body.name is not None and body.name != place.name:
            place.name, changed = body.name, True
        if body.district is not None and body.district != place.parent_id:
            place.parent_id, changed = _district(session, body.district).id, True
        if body.status is not None and body.status != place.status:
            place.status, changed = body.status, True
        if changed:
            keep_version(session, original)
            place.last_updated = _stamp(session)
            place.version_id += 1
            session.add(place)
            session.commit()
    return place


def count_places(session: Session) -> dict[str, int]:
    rows = session.exec(select(Place.level, func.count()).group_by(col(Place.level))).all()
    return {level: n for level, n in rows}
