"""FHIR search over places: `partof`, `name`, `identifier`, `type`, `_id`, `_lastUpdated`,
`_count`, with keyset paging (`_cursor`) ordered by `(lastUpdated, id)` so that a sync that
pages while places change neither skips nor repeats."""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, or_
from sqlmodel import Session, col, select

from services.kernel.errors import BadRequest
from services.kernel.time import as_utc, iso_micros_z
from services.registries.facilities import fhir
from services.registries.facilities.models import Place

DEFAULT_COUNT = 50
MAX_COUNT = 1000
_IGNORED = {"_format", "_pretty"}
_PREFIXES = ("eq", "ne", "gt", "lt", "ge", "le", "sa", "eb")
_DATE = re.compile(
    r"^(\d{4})(?:-(\d{2})(?:-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(\.\d{1,6})?)?(Z|[+-]\d{2}:\d{2})?)?)?)?$"
)


@dataclass
class Search:
    resource_type: str
    count: int = DEFAULT_COUNT
    cursor: tuple[datetime, str] | None = None
    filters: list[Any] = field(default_factory=list)


def parse(resource_type: str, items: list[tuple[str, str]]) -> Search:
    """Turn query parameters into SQL conditions; anything unknown or malformed is a 400."""
    search = Search(resource_type)
    for raw_name, value in items:
        name, _, modifier = raw_name.partition(":")
        if name in _IGNORED:
            continue
        if name == "_count":
            search.count = _count(value)
        elif name == "_cursor":
            search.cursor = _cursor(value)
        elif name == "_lastUpdated":
            search.filters.append(_last_updated(value))
        elif name == "_id":
            search.filters.append(col(Place.id).in_(value.split(",")))
        elif name == "partof":
            search.filters.append(_partof(resource_type, value))
        elif name == "name":
            search.filters.append(_name(value, modifier))
        elif name == "identifier":
            search.filters.append(_identifier(value))
        elif name == "type":
            search.filters.append(_type(value))
        elif name == "status" and resource_type == "Location":
            search.filters.append(col(Place.status).in_(value.split(",")))
        elif name == "active" and resource_type == "Organization":
            search.filters.append(_active(value))
        else:
            extra = "status" if resource_type == "Location" else "active"
            raise BadRequest(
                f"unsupported search parameter {raw_name!r} for {resource_type}; supported: "
                f"_id, _lastUpdated, _count, identifier, name, partof, type, {extra}."
            )
        if modifier and name not in ("name",):
            raise BadRequest(f"modifier :{modifier} is not supported on {name}.")
    return search


def _count(value: str) -> int:
    if not value.isdigit() or not 0 < int(value) <= MAX_COUNT:
        raise BadRequest(f"_count must be an integer from 1 to {MAX_COUNT}, got {value!r}.")
    return int(value)


def _cursor(value: str) -> tuple[datetime, str]:
    stamp, sep, last_id = value.partition("|")
    try:
        parsed = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    except ValueError:
        parsed = None
    if not sep or not last_id or parsed is None:
        raise BadRequest("_cursor is malformed; follow the Bundle's next link as given.")
    return as_utc(parsed), last_id


def _bounds(value: str) -> tuple[datetime, datetime]:
    """The range a FHIR date/dateTime/instant covers, given its precision."""
    match = _DATE.match(value)
    if not match:
        raise BadRequest(f"_lastUpdated: {value!r} is not a FHIR date, dateTime or instant.")
    year, month, day, hour, minute, second, fraction, zone = match.groups()
    if hour is not None and zone is None:
        raise BadRequest(f"_lastUpdated: {value!r} has a time but no time zone.")
    try:
        start = datetime.fromisoformat(
            f"{year}-{month or '01'}-{day or '01'}T{hour or '00'}:{minute or '00'}:"
            f"{second or '00'}{fraction or ''}{'+00:00' if zone in (None, 'Z') else zone}"
        )
    except ValueError as exc:
        raise BadRequest(f"_lastUpdated: {value!r} is not a valid date: {exc}") from exc
    start = as_utc(start)
    if month is None:
        end = start.replace(year=start.year + 1)
    elif day is None:
        days = calendar.monthrange(start.year, start.month)[1]
        end = start + timedelta(days=days)
    elif hour is None:
        end = start + timedelta(days=1)
    elif second is None:
        end = start + timedelta(minutes=1)
    else:
        end = start + timedelta(microseconds=10 ** (6 - len(fraction[1:])) if fraction else 10**6)
    return start, end


def _last_updated(value: str) -> Any:
    prefix = value[:2] if value[:2] in _PREFIXES else "eq"
    start, end = _bounds(value[2:] if value[:2] in _PREFIXES else value)
    stamp = col(Place.last_updated)
    conditions = {
        "eq": and_(stamp >= start, stamp < end),
        "ne": or_(stamp < start, stamp >= end),
        "gt": stamp >= end,
        "sa": stamp >= end,
        "ge": stamp >= start,
        "lt": stamp < start,
        "eb": stamp < start,
        "le": stamp < end,
    }
    return conditions[prefix]


def _reference(resource_type: str, value: str) -> str:
    kind, sep, ident = value.rpartition("/")
    if sep and kind.rsplit("/", 1)[-1] != resource_type:
        raise BadRequest(f"partof must reference a {resource_type}, got {value!r}.")
    return ident if sep else value


def _partof(resource_type: str, value: str) -> Any:
    ids = [_reference(resource_type, v) for v in value.split(",")]
    return col(Place.parent_id).in_(ids)


def _name(value: str, modifier: str) -> Any:
    lowered = func.lower(col(Place.name))
    if modifier == "exact":
        return col(Place.name) == value
    if modifier == "contains":
        return lowered.contains(value.lower(), autoescape=True)
    if modifier:
        raise BadRequest(f"name supports :exact and :contains, not :{modifier}.")
    return lowered.startswith(value.lower(), autoescape=True)


def _active(value: str) -> Any:
    if value not in ("true", "false"):
        raise BadRequest(f"active must be true or false, got {value!r}.")
    status = col(Place.status)
    return status == "active" if value == "true" else status != "active"


def _token(value: str) -> tuple[str | None, str]:
    if "|" in value:
        system, _, code = value.partition("|")
        return system, code
    return None, value


def _identifier(value: str) -> Any:
    options: list[Any] = []
    for item in value.split(","):
        system, code = _token(item)
        if system not in (None, "", fhir.CODE_SYSTEM):
            options.append(col(Place.id).is_(None))
        else:
            options.append(col(Place.id) == code)
    return or_(*options)


def _type(value: str) -> Any:
    options: list[Any] = []
    for item in value.split(","):
        system, code = _token(item)
        if system in (None, "", fhir.MCSD_TYPES) and code in ("facility", "jurisdiction"):
            level = col(Place.level)
            options.append(level == "facility" if code == "facility" else level != "facility")
        if system in (None, "", fhir.LEVEL_SYSTEM, fhir.FACILITY_TYPE_SYSTEM):
            options.append(col(Place.type_code) == code)
    return or_(*options) if options else col(Place.id).is_(None)


def run(session: Session, search: Search) -> tuple[int, list[Place], tuple[datetime, str] | None]:
    """The total, this page, and the cursor of the next page (None on the last)."""
    base = select(Place).where(*search.filters)
    total = session.exec(select(func.count()).select_from(base.subquery())).one()
    stmt = base
    if search.cursor is not None:
        stamp, last_id = search.cursor
        stmt = stmt.where(
            or_(
                col(Place.last_updated) > stamp,
                and_(col(Place.last_updated) == stamp, col(Place.id) > last_id),
            )
        )
    stmt = stmt.order_by(col(Place.last_updated), col(Place.id)).limit(search.count + 1)
    rows = list(session.exec(stmt).all())
    more = len(rows) > search.count
    rows = rows[: search.count]
    cursor = (rows[-1].last_updated, rows[-1].id) if more and rows else None
    return total, rows, cursor


def cursor_value(cursor: tuple[datetime, str]) -> str:
    return f"{iso_micros_z(cursor[0])}|{cursor[1]}"
