"""`GET [type]/_history?_since=` (mCSD ITI-91): every version written at or after `_since`,
newest first, as a FHIR `history` Bundle. A place's earlier versions are kept in
`place_version` when it changes; the current version is the `place` row itself."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, or_
from sqlmodel import Field, Session, col, select

from services.kernel.errors import BadRequest
from services.kernel.time import iso_micros_z
from services.registries.facilities import links, search
from services.registries.facilities.directory import DirectoryEntry
from services.registries.facilities.models import Place, PlaceBase


class PlaceVersion(PlaceBase, table=True):
    """A place as it was before a change (the `place` row holds the current version)."""

    __tablename__ = "place_version"

    row: int | None = Field(default=None, primary_key=True)
    id: str = Field(max_length=64, index=True)
    version_id: int
    last_updated: datetime = Field(index=True)


def keep_version(session: Session, place: Place) -> None:
    fields = place.model_dump()
    session.add(PlaceVersion(**fields))


@dataclass
class HistoryQuery:
    since: datetime | None = None
    count: int = search.DEFAULT_COUNT
    before: tuple[datetime, str] | None = None


def parse(items: list[tuple[str, str]]) -> HistoryQuery:
    query = HistoryQuery()
    for name, value in items:
        if name in ("_format", "_pretty"):
            continue
        if name == "_since":
            if "T" not in value:
                raise BadRequest(f"_since: {value!r} must be an instant (with time and zone).")
            query.since = search._bounds(value, "_since")[0]
        elif name == "_count":
            query.count = search._count(value)
        elif name == "_cursor":
            query.before = search._cursor(value)
        else:
            raise BadRequest(f"unsupported history parameter {name!r}; supported: _since, _count.")
    return query


def _page(model: Any, query: HistoryQuery, *where: Any) -> Any:
    stamp, ident = col(model.last_updated), col(model.id)
    stmt = select(model).where(*where)
    if query.since is not None:
        stmt = stmt.where(stamp >= query.since)
    if query.before is not None:
        at, last_id = query.before
        stmt = stmt.where(or_(stamp < at, and_(stamp == at, ident < last_id)))
    return stmt.order_by(stamp.desc(), ident.desc()).limit(query.count + 1)


def run(
    session: Session, resource_type: str, query: HistoryQuery
) -> tuple[list[Place | PlaceVersion | DirectoryEntry], tuple[datetime, str] | None]:
    """This page of versions, newest first, and where the next page starts (None: last)."""
    rows: list[Place | PlaceVersion | DirectoryEntry]
    if resource_type in links.PLACE_TYPES:
        rows = [*session.exec(_page(Place, query)).all()]
        rows += session.exec(_page(PlaceVersion, query)).all()
        rows.sort(key=lambda r: (r.last_updated, r.id), reverse=True)
    else:
        where = col(DirectoryEntry.resource_type) == resource_type
        rows = [*session.exec(_page(DirectoryEntry, query, where)).all()]
    more = len(rows) > query.count
    rows = rows[: query.count]
    return rows, ((rows[-1].last_updated, rows[-1].id) if more else None)


def _as_place(row: PlaceVersion) -> Place:
    return Place(**row.model_dump(exclude={"row"}))


def bundle(
    resource_type: str,
    rows: list[Place | PlaceVersion | DirectoryEntry],
    *,
    base: str,
    self_url: str,
    next_url: str | None,
) -> dict[str, Any]:
    entries = []
    for row in rows:
        current = _as_place(row) if isinstance(row, PlaceVersion) else row
        created = row.version_id == 1
        entries.append(
            {
                "fullUrl": f"{base}/{resource_type}/{row.id}",
                "resource": links.render(resource_type, current),
                "request": {
                    "method": "POST" if created else "PUT",
                    "url": resource_type if created else f"{resource_type}/{row.id}",
                },
                "response": {
                    "status": "201 Created" if created else "200 OK",
                    "etag": f'W/"{row.version_id}"',
                    "lastModified": iso_micros_z(row.last_updated),
                },
            }
        )
    link = [{"relation": "self", "url": self_url}]
    if next_url:
        link.append({"relation": "next", "url": next_url})
    return {"resourceType": "Bundle", "type": "history", "link": link, "entry": entries}
