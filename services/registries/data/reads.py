"""The Data API's reads: search with paging, find by example, get one. Registries that are
views (the master facility list) are read from their own tables."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import func
from sqlmodel import Session, col, select

from services.kernel.errors import BadRequest, NotFound
from services.kernel.time import iso_micros_z
from services.registries.catalog import schema as schemas
from services.registries.catalog.builtin import FACILITY_VIEW
from services.registries.catalog.models import Registry
from services.registries.data import content as q
from services.registries.data.models import Record
from services.registries.facilities.models import Place

NO_RECORD = "no record found"


class Keyed(Protocol):
    """A record as reads see it: stored `Record` rows and view items alike."""

    @property
    def key(self) -> str: ...

    @property
    def content(self) -> dict[str, Any]: ...


@dataclass(frozen=True, slots=True)
class Page:
    count: int
    records: Sequence[Keyed]
    has_next: bool


def search(
    session: Session,
    *,
    registry: Registry,
    search: str | None,
    filter_field: str | None,
    ordering: str | None,
    page: int,
    page_size: int,
    equals: dict[str, str],
) -> Page:
    """`GET /data/{name}/{version}`: `search` (in `filter`), `query.<field>`, order, page."""
    for path in [*equals, *([filter_field] if filter_field else [])]:
        if not schemas.has_path(registry.json_schema, path):
            raise BadRequest(f"{path!r} is not a field of registry {registry.name}.")
    descending, order_field = _ordering(registry, ordering)
    pattern = q.search_pattern(search) if search else None
    candidates: Sequence[Keyed]
    if registry.view is None:
        stmt = select(Record).where(Record.registry_id == registry.id)
        in_sql = bool(search and not filter_field and pattern is None)
        if in_sql and search:
            stmt = stmt.where(col(Record.search_text).contains(search.lower(), autoescape=True))
        order = col(Record.id).desc() if descending else col(Record.id)
        if not (equals or filter_field or order_field or pattern):
            count = session.exec(select(func.count()).select_from(stmt.subquery())).one()
            rows = session.exec(
                stmt.order_by(order).offset((page - 1) * page_size).limit(page_size)
            ).all()
            return Page(count, list(rows), page * page_size < count)
        candidates = session.exec(stmt.order_by(order)).all()
    else:
        in_sql = False
        candidates = _view_items(session, registry=registry)
        if descending and not order_field:
            candidates = candidates[::-1]
    matched = [r for r in candidates if _keep(r, search, pattern, filter_field, equals, in_sql)]
    if order_field:
        matched.sort(
            key=lambda r: q.order_key(schemas.get_path(r.content, order_field)), reverse=descending
        )
    start = (page - 1) * page_size
    return Page(len(matched), matched[start : start + page_size], start + page_size < len(matched))


def _keep(
    record: Keyed,
    search: str | None,
    pattern: q.TextPattern | None,
    filter_field: str | None,
    equals: dict[str, str],
    searched_in_sql: bool,
) -> bool:
    if not all(q.field_equals(record.content, p, v) for p, v in equals.items()):
        return False
    value = (
        record.content if filter_field is None else schemas.get_path(record.content, filter_field)
    )
    if value is None:
        return False
    if pattern is not None:
        return q.matches_pattern(value, pattern)
    if search and not searched_in_sql:
        return q.contains_text(value, search)
    return True


def _ordering(registry: Registry, ordering: str | None) -> tuple[bool, str | None]:
    if ordering is None or ordering.lower() in ("", "asc", "ascending"):
        return False, None
    if ordering.lower() in ("desc", "descending"):
        return True, None
    field = ordering.removeprefix("-")
    if not schemas.has_path(registry.json_schema, field):
        raise BadRequest(
            f"ordering must be ascending, descending or a field (-field for descending); "
            f"{field!r} is not a field of registry {registry.name}."
        )
    return ordering.startswith("-"), field


def find(session: Session, *, registry: Registry, query: dict[str, Any]) -> list[Record]:
    """Records whose content holds everything in `query`, oldest first."""
    stmt = select(Record).where(Record.registry_id == registry.id).order_by(col(Record.id))
    key = query.get(registry.primary_key)
    if isinstance(key, str):
        stmt = stmt.where(Record.key == key)
    return [r for r in session.exec(stmt).all() if q.matches(r.content, query)]


def find_items(session: Session, *, registry: Registry, query: dict[str, Any]) -> list[Keyed]:
    """`read` and `exists`: stored records or view items holding everything in `query`."""
    if registry.view is None:
        return list(find(session, registry=registry, query=query))
    key = query.get(registry.primary_key)
    if isinstance(key, str):
        one = _view_item(session, registry=registry, key=key)
        candidates = [one] if one is not None else []
    else:
        candidates = _view_items(session, registry=registry)
    return [item for item in candidates if q.matches(item.content, query)]


def get_item(session: Session, *, registry: Registry, key: str) -> Keyed:
    found: Keyed | None
    if registry.view is None:
        found = session.exec(
            select(Record).where(Record.registry_id == registry.id, Record.key == key)
        ).first()
    else:
        found = _view_item(session, registry=registry, key=key)
    if found is None:
        raise NotFound(NO_RECORD)
    return found


@dataclass(frozen=True, slots=True)
class Item:
    """A record of a registry that is a view of a built-in's own table."""

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


def _view_items(session: Session, *, registry: Registry) -> list[Item]:
    """Every item of the view, in key order."""
    if registry.view != FACILITY_VIEW:
        return []
    return [_facility(p) for p in session.exec(select(Place).order_by(col(Place.id))).all()]


def _view_item(session: Session, *, registry: Registry, key: str) -> Item | None:
    if registry.view != FACILITY_VIEW:
        return None
    place = session.get(Place, key)
    return _facility(place) if place is not None else None
