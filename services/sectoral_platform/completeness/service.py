"""Registering, reading and deleting data set completeness, with DHIS2's ImportSummary."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, and_, delete, or_, select
from sqlalchemy.engine import Connection, Engine

from services.kernel.time import dhis2_timestamp
from services.sectoral_platform.aggregate.periods import canonical, parse_period
from services.sectoral_platform.aggregate.summary import ImportOptions, ImportSummary
from services.sectoral_platform.aggregate.validation import Conflicts
from services.sectoral_platform.auth.scope import Kind, Scope
from services.sectoral_platform.base import table_of
from services.sectoral_platform.completeness.models import CompleteRegistration
from services.sectoral_platform.errors import conflict
from services.sectoral_platform.metadata.schema import DEFAULT_CATEGORY_OPTION_COMBO
from services.sectoral_platform.metadata.store import MetadataStore

T = table_of(CompleteRegistration)
Key = tuple[str, str, str, str]


@dataclass(slots=True)
class Registration:
    key: Key
    path: str
    start: str
    end: str
    date: str
    completed: bool
    stored_by: str | None  # as sent; the importing user when blank


def check(
    store: MetadataStore, scope: Scope, index: int, raw: Any, conflicts: Conflicts
) -> Registration | None:
    """DHIS2's checks: the data set, the period (of the data set's type), the org unit and the
    caller's capture scope; each failure a conflict naming the object and the row index."""
    if not isinstance(raw, dict):
        conflicts.add(index, "E7600", "registration", str(index), "Not an object")
        return None
    ds, pe = str(raw.get("dataSet") or ""), str(raw.get("period") or "")
    ou = str(raw.get("organisationUnit") or raw.get("orgUnit") or "")
    ao = str(raw.get("attributeOptionCombo") or DEFAULT_CATEGORY_OPTION_COMBO)
    stored_by = str(raw.get("storedBy") or "").strip() or None
    data_set = store.get("dataSets", ds)
    period = parse_period(pe)
    if data_set is None:
        conflicts.add(index, "E7600", "dataSet", ds, f"Data set not found: `{ds}`")
    elif period is None:
        conflicts.add(index, "E7611", "period", pe, f"Period not valid: `{pe}`")
    elif period.type != data_set.get("periodType", "Monthly"):
        message = f"Period `{pe}` is not a {data_set.get('periodType', 'Monthly')} period"
        conflicts.add(index, "E7617", "period", pe, message)
    elif store.path(ou) is None:
        conflicts.add(index, "E7612", "orgUnit", ou, f"Organisation unit not found: `{ou}`")
    elif stored_by is not None and len(stored_by) > 255:  # DHIS2's validateStoredBy
        message = "Invalid storedBy: stored_by_length_greater_than_max_length"
        conflicts.add(index, "E7637", "storedBy", ds, message)
    elif not scope.covers(Kind.CAPTURE, ou):
        message = f"Organisation unit `{ou}` is not in the hierarchy of user `{scope.username}`"
        conflicts.add(index, "E7620", "orgUnit", ou, message)
    else:
        assert period is not None
        return Registration(
            (ds, period.id, ou, ao),
            store.path(ou) or "",
            period.start.isoformat(),
            period.end.isoformat(),
            str(raw.get("date") or dhis2_timestamp()[:10]),
            raw.get("completed", True) is not False,
            stored_by,
        )
    return None


def register(
    engine: Engine,
    store: MetadataStore,
    scope: Scope,
    items: list[Any],
    options: ImportOptions,
) -> ImportSummary:
    summary = ImportSummary(options=options)
    conflicts = Conflicts()
    found = [check(store, scope, i, raw, conflicts) for i, raw in enumerate(items)]
    valid = [r for r in found if r is not None]
    summary.count.ignored = len(items) - len(valid)
    with engine.begin() as conn:
        for reg in valid:
            existing = _get(conn, reg.key)
            if options.strategy == "DELETE":
                if existing:
                    summary.count.deleted += 1
                    if not options.dry_run:
                        conn.execute(delete(T).where(_key(reg.key)))
                else:
                    summary.count.ignored += 1
                continue
            if (existing and options.strategy == "CREATE") or (
                not existing and options.strategy == "UPDATE"
            ):
                summary.count.ignored += 1
                continue
            if existing:
                summary.count.updated += 1
            else:
                summary.count.imported += 1
            if not options.dry_run:
                _write(conn, reg, scope.user.username, existing)
    if conflicts.entries:
        summary.status = "WARNING"
        summary.conflicts = conflicts.as_list()
        summary.rejected_indexes = sorted(conflicts.rejected)
    return summary


def _key(key: Key) -> ColumnElement[bool]:
    return and_(T.c.ds == key[0], T.c.pe == key[1], T.c.ou == key[2], T.c.ao == key[3])


def _get(conn: Connection, key: Key) -> bool:
    return conn.execute(select(T.c.ds).where(_key(key))).first() is not None


def _write(conn: Connection, reg: Registration, user: str, existing: bool) -> None:
    values = {
        "date": reg.date,
        "completed": reg.completed,
        "stored_by": reg.stored_by or user,
        "last_updated": dhis2_timestamp(),
    }
    if existing:
        conn.execute(T.update().where(_key(reg.key)).values(**values))
        return
    ds, pe, ou, ao = reg.key
    row = {"ds": ds, "pe": pe, "ou": ou, "ao": ao, "ou_path": reg.path}
    conn.execute(T.insert().values(**row, pe_start=reg.start, pe_end=reg.end, **values))


def read(
    engine: Engine,
    store: MetadataStore,
    scope: Scope,
    *,
    data_sets: list[str],
    periods: list[str],
    start: str | None,
    end: str | None,
    org_units: list[str],
    children: bool,
) -> list[dict[str, Any]]:
    if not data_sets:
        raise conflict("At least one data set must be specified", "E2013")
    if not periods and not (start and end):
        raise conflict("At least one period or start/end dates must be specified", "E2002")
    if not org_units:
        raise conflict("At least one organisation unit must be specified", "E2006")
    for ou in org_units:
        if store.path(ou) is None:
            raise conflict(f"Organisation unit does not exist: `{ou}`", "E1003")
        scope.require_view(ou)
    clauses: list[ColumnElement[bool]] = [T.c.ds.in_(data_sets)]
    by_period = T.c.pe.in_([canonical(p) for p in periods])
    clauses.append(by_period if periods else and_(T.c.pe_start >= start, T.c.pe_end <= end))
    if children:
        paths = [store.path(ou) or "" for ou in org_units]
        clauses.append(or_(*(and_(T.c.ou_path >= p, T.c.ou_path < p + "0") for p in paths)))
    else:
        clauses.append(T.c.ou.in_(org_units))
    stmt = select(T).where(and_(*clauses)).order_by(T.c.pe_start, T.c.ou, T.c.ds)
    with engine.connect() as conn:
        return [public(r) for r in conn.execute(stmt).mappings()]


def public(r: Any) -> dict[str, Any]:
    return {
        "dataSet": r["ds"],
        "period": r["pe"],
        "organisationUnit": r["ou"],
        "attributeOptionCombo": r["ao"],
        "date": r["date"],
        "storedBy": r["stored_by"],
        "completed": bool(r["completed"]),
        "lastUpdatedBy": r["stored_by"],
        "lastUpdated": r["last_updated"],
    }


def complete_date(engine: Engine, key: Key) -> str | None:
    with engine.connect() as conn:
        row = conn.execute(select(T.c.date, T.c.completed).where(_key(key))).first()
    return None if row is None or not row[1] else str(row[0])
