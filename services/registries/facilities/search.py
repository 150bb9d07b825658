"""FHIR search over the directory: `_id`, `_lastUpdated`, the profile's references (`partof`,
`organization`, `location`, …), tokens (`type`, `service-type`, `active`, …), `name`,
`_include`/`_revinclude`, `_summary=count`, `_count`, with keyset paging (`_cursor`) ordered by
`(lastUpdated, id)` so that a sync that pages while resources change neither skips nor repeats.
A parameter not implemented for the type is refused, naming it."""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, or_
from sqlmodel import Session, col, select

from services.kernel.errors import BadRequest
from services.kernel.time import as_utc, iso_micros_z
from services.registries.facilities import directory_fhir, fhir, links
from services.registries.facilities.directory import DirectoryEntry
from services.registries.facilities.models import Place

DEFAULT_COUNT = 50
MAX_COUNT = 1000
_IGNORED = {"_format", "_pretty"}
_PREFIXES = ("eq", "ne", "gt", "lt", "ge", "le", "sa", "eb")
_DATE = re.compile(
    r"^(\d{4})(?:-(\d{2})(?:-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(\.\d{1,6})?)?(Z|[+-]\d{2}:\d{2})?)?)?)?$"
)
Handler = Callable[[str, str], Any]


@dataclass
class Search:
    resource_type: str
    count: int = DEFAULT_COUNT
    cursor: tuple[datetime, str] | None = None
    filters: list[Any] = field(default_factory=list)
    summary_count: bool = False
    includes: list[tuple[str, str]] = field(default_factory=list)
    revincludes: list[tuple[str, str]] = field(default_factory=list)


def _handlers(resource_type: str) -> dict[str, Handler]:
    """The type's own parameters (besides `_id`, `_lastUpdated` and its references)."""
    if resource_type == "Location":
        return {
            "name": lambda v, m: _name(col(Place.name), v, m),
            "identifier": lambda v, m: _identifier(v),
            "type": lambda v, m: _type(v),
            "status": lambda v, m: col(Place.status).in_(v.split(",")),
        }
    if resource_type == "Organization":
        return {
            "name": lambda v, m: _name(col(Place.name), v, m),
            "identifier": lambda v, m: _identifier(v),
            "type": lambda v, m: _type(v),
            "active": lambda v, m: _active(v),
        }
    entry: dict[str, Handler] = {"active": lambda v, m: _entry_active(v)}
    if resource_type == "HealthcareService":
        entry["name"] = lambda v, m: _name(col(DirectoryEntry.name), v, m)
        entry["service-type"] = lambda v, m: _code(v, directory_fhir.SERVICE_TYPE_SYSTEM)
    elif resource_type == "Practitioner":
        entry["name"] = lambda v, m: _name(col(DirectoryEntry.name), v, m)
    elif resource_type == "PractitionerRole":
        entry["role"] = lambda v, m: _code(v, directory_fhir.ROLE_SYSTEM)
    elif resource_type == "Endpoint":
        entry = {"status": lambda v, m: _endpoint_status(v)}
    return entry


def supported(resource_type: str) -> list[str]:
    own = [*_handlers(resource_type), *(p for t, p in links.REFERENCES if t == resource_type)]
    return ["_id", "_lastUpdated", "_count", "_summary", "_include", "_revinclude", *sorted(own)]


def parse(resource_type: str, items: list[tuple[str, str]]) -> Search:
    """Turn query parameters into SQL conditions; anything unknown or malformed is a 400."""
    search = Search(resource_type)
    model = links.model_of(resource_type)
    if model is DirectoryEntry:
        search.filters.append(col(DirectoryEntry.resource_type) == resource_type)
    handlers = _handlers(resource_type)
    for raw_name, value in items:
        name, _, modifier = raw_name.partition(":")
        if name in _IGNORED:
            continue
        if modifier and name != "name":
            raise BadRequest(f"modifier :{modifier} is not supported on {name}.")
        if name == "_count":
            search.count = _count(value)
        elif name == "_cursor":
            search.cursor = _cursor(value)
        elif name == "_summary":
            search.summary_count = _summary(value)
        elif name in ("_include", "_revinclude"):
            link = links.parse_link(name, value, resource_type)
            (search.includes if name == "_include" else search.revincludes).append(link)
        elif name == "_lastUpdated":
            search.filters.append(_last_updated(col(model.last_updated), value))
        elif name == "_id":
            search.filters.append(col(model.id).in_(value.split(",")))
        elif (resource_type, name) in links.REFERENCES:
            column, target = links.REFERENCES[(resource_type, name)]
            ids = links.reference_ids(target, name, value)
            search.filters.append(links.column(resource_type, column).in_(ids))
        elif name in handlers:
            search.filters.append(handlers[name](value, modifier))
        else:
            raise BadRequest(
                f"unsupported search parameter {raw_name!r} for {resource_type}; supported: "
                f"{', '.join(supported(resource_type))}."
            )
    return search


def _summary(value: str) -> bool:
    if value not in ("count", "false"):
        raise BadRequest(f"_summary={value!r} is not supported; only _summary=count.")
    return value == "count"


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


def _bounds(value: str, name: str = "_lastUpdated") -> tuple[datetime, datetime]:
    """The range a FHIR date/dateTime/instant covers, given its precision."""
    match = _DATE.match(value)
    if not match:
        raise BadRequest(f"{name}: {value!r} is not a FHIR date, dateTime or instant.")
    year, month, day, hour, minute, second, fraction, zone = match.groups()
    if hour is not None and zone is None:
        raise BadRequest(f"{name}: {value!r} has a time but no time zone.")
    try:
        start = datetime.fromisoformat(
            f"{year}-{month or '01'}-{day or '01'}T{hour or '00'}:{minute or '00'}:"
            f"{second or '00'}{fraction or ''}{'+00:00' if zone in (None, 'Z') else zone}"
        )
    except ValueError as exc:
        raise BadRequest(f"{name}: {value!r} is not a valid date: {exc}") from exc
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


def _last_updated(stamp: Any, value: str) -> Any:
    prefix = value[:2] if value[:2] in _PREFIXES else "eq"
    start, end = _bounds(value[2:] if value[:2] in _PREFIXES else value)
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


def _name(name: Any, value: str, modifier: str) -> Any:
    lowered = func.lower(name)
    if modifier == "exact":
        return name == value
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


def _entry_active(value: str) -> Any:
    if value not in ("true", "false"):
        raise BadRequest(f"active must be true or false, got {value!r}.")
    return col(DirectoryEntry.active).is_(value == "true")


def _endpoint_status(value: str) -> Any:
    states = value.split(",")
    if not set(states) <= {"active", "off"}:
        raise BadRequest(f"status must be active or off here, got {value!r}.")
    return or_(*(col(DirectoryEntry.active).is_(s == "active") for s in states))


def _code(value: str, system: str) -> Any:
    tokens = [_token(item) for item in value.split(",")]
    codes = [code for given, code in tokens if given in (None, "", system)]
    return col(DirectoryEntry.type_code).in_(codes)


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


def run(
    session: Session, search: Search
) -> tuple[int, list[links.Row], tuple[datetime, str] | None]:
    """The total, this page, and the cursor of the next page (None on the last)."""
    model = links.model_of(search.resource_type)
    base = select(model).where(*search.filters)
    total = session.exec(select(func.count()).select_from(base.subquery())).one()
    if search.summary_count:
        return total, [], None
    stamp_col, id_col = col(model.last_updated), col(model.id)
    stmt = base
    if search.cursor is not None:
        stamp, last_id = search.cursor
        stmt = stmt.where(or_(stamp_col > stamp, and_(stamp_col == stamp, id_col > last_id)))
    stmt = stmt.order_by(stamp_col, id_col).limit(search.count + 1)
    rows: list[links.Row] = [*session.exec(stmt)]
    more = len(rows) > search.count
    rows = rows[: search.count]
    cursor = (rows[-1].last_updated, rows[-1].id) if more and rows else None
    return total, rows, cursor


def cursor_value(cursor: tuple[datetime, str]) -> str:
    return f"{iso_micros_z(cursor[0])}|{cursor[1]}"
