"""Registries whose records live in a built-in's own tables, exposed read-only to the Data API."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, col, select

from services.kernel.time import iso_micros_z
from services.registries.catalog.builtin import FACILITY_VIEW
from services.registries.catalog.models import Registry
from services.registries.facilities.models import Place


@dataclass(frozen=True, slots=True)
class Item:
    key: str
    content: dict[str, Any]


def _facility(place: Place) -> Item:
    return Item(
        place.id,
        {
            "id": place.id,
            "name": place.name,
            "level": place.level,
            "type": place.type_code,
            "partOf": place.parent_id,
            "latitude": place.latitude,
            "longitude": place.longitude,
            "status": place.status,
            "lastUpdated": iso_micros_z(place.last_updated),
        },
    )


def items(session: Session, *, registry: Registry) -> list[Item]:
    """Every item of the view, in key order."""
    if registry.view != FACILITY_VIEW:
        return []
    return [_facility(p) for p in session.exec(select(Place).order_by(col(Place.id))).all()]


def item(session: Session, *, registry: Registry, key: str) -> Item | None:
    if registry.view != FACILITY_VIEW:
        return None
    place = session.get(Place, key)
    return _facility(place) if place is not None else None
