"""Reading data values back: `GET /api/dataValueSets` and single values."""

from __future__ import annotations

from datetime import date
from typing import Any, NotRequired, TypedDict

from sqlalchemy import ColumnElement, and_, or_, select
from sqlalchemy.engine import Engine

from services.sectoral_platform.aggregate.models import DataValue
from services.sectoral_platform.aggregate.periods import parse_period
from services.sectoral_platform.auth.scope import Scope
from services.sectoral_platform.base import table_of
from services.sectoral_platform.errors import conflict
from services.sectoral_platform.metadata.store import MetadataStore

T = table_of(DataValue)


def _date(raw: str, name: str) -> str:
    try:
        return date.fromisoformat(raw[:10]).isoformat()
    except ValueError as exc:
        raise conflict(f"Invalid `{name}`: `{raw}`", "E2003") from exc


class DataValueJson(TypedDict):
    """One data value as DHIS2 returns it; `value` absent when null, `comment` when unset."""

    dataElement: str
    period: str
    orgUnit: str
    categoryOptionCombo: str
    attributeOptionCombo: str
    value: NotRequired[str]
    storedBy: str
    created: str
    lastUpdated: str
    followup: bool
    comment: NotRequired[str]


class DataValueSetJson(TypedDict, total=False):
    dataSet: str
    period: str
    orgUnit: str
    dataValues: list[DataValueJson]


def read_data_value_set(
    *,
    engine: Engine,
    store: MetadataStore,
    scope: Scope,
    data_sets: list[str],
    data_elements: list[str],
    periods: list[str],
    start: str | None,
    end: str | None,
    org_units: list[str],
    children: bool,
    aoc: str | None = None,
    limit: int | None = None,
) -> DataValueSetJson:
    """DHIS2's required-parameter rules (E2000-E2006), then one query."""
    elements: set[str] = set(data_elements)
    for uid in data_sets:
        ds = store.get("dataSets", uid)
        if ds is None:
            raise conflict(f"Data set does not exist: `{uid}`", "E1000")
        elements.update(
            str((i.get("dataElement") or {}).get("id")) for i in ds.get("dataSetElements") or []
        )
    if not data_sets and not data_elements:
        raise conflict("At least one data set or data element group must be specified", "E2000")
    if not periods and not (start and end):
        raise conflict(
            "At least one valid period, start/end dates, last updated or last updated duration "
            "must be specified",
            "E2002",
        )
    if not org_units:
        raise conflict("At least one valid organisation unit must be specified", "E2006")
    for pid in periods:
        if parse_period(pid) is None:
            raise conflict(f"Period not valid: `{pid}`", "E7611")
    for ou in org_units:
        if store.get("organisationUnits", ou) is None:
            raise conflict(f"Organisation unit does not exist: `{ou}`", "E1003")
        scope.require_view(ou)
    clauses: list[ColumnElement[bool]] = [T.c.de.in_(sorted(e for e in elements if e))]
    if periods:
        clauses.append(T.c.pe.in_(periods))
    else:
        assert start and end
        clauses += [T.c.pe_start >= _date(start, "startDate"), T.c.pe_end <= _date(end, "endDate")]
    if children:
        ranges = []
        for ou in org_units:
            path = store.path(ou) or f"/{ou}"
            ranges.append(and_(T.c.ou_path >= path, T.c.ou_path < path + "0"))
        clauses.append(or_(*ranges))
    else:
        clauses.append(T.c.ou.in_(org_units))
    if aoc:
        clauses.append(T.c.ao == aoc)
    stmt = select(T).where(and_(*clauses)).order_by(T.c.pe_start, T.c.ou, T.c.de, T.c.co)
    if limit:
        stmt = stmt.limit(limit)
    with engine.connect() as conn:
        rows = conn.execute(stmt).mappings().all()
    body = DataValueSetJson()
    if len(data_sets) == 1:
        body["dataSet"] = data_sets[0]
    if len(periods) == 1:
        body["period"] = periods[0]
    if len(org_units) == 1 and not children:
        body["orgUnit"] = org_units[0]
    body["dataValues"] = [public(r) for r in rows]
    return body


def public(r: Any) -> DataValueJson:
    item = DataValueJson(
        dataElement=r["de"],
        period=r["pe"],
        orgUnit=r["ou"],
        categoryOptionCombo=r["co"],
        attributeOptionCombo=r["ao"],
        value=r["value"],
        storedBy=r["stored_by"],
        created=r["created"],
        lastUpdated=r["last_updated"],
        followup=bool(r["followup"]),
    )
    if r["comment"] is not None:
        item["comment"] = r["comment"]
    if r["value"] is None:
        item.pop("value")
    return item


def read_one(engine: Engine, key: tuple[str, str, str, str, str]) -> DataValueJson | None:
    stmt = select(T).where(
        and_(
            T.c.de == key[0], T.c.pe == key[1], T.c.ou == key[2], T.c.co == key[3], T.c.ao == key[4]
        )
    )
    with engine.connect() as conn:
        row = conn.execute(stmt).mappings().first()
    return None if row is None else public(row)
