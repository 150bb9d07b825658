"""Data value set import: per-row validation with indexed conflicts, bulk writes, ImportSummary."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import and_, bindparam, delete, insert, select, update
from sqlalchemy.engine import Engine

from services.sectoral_platform.aggregate.context import ImportContext
from services.sectoral_platform.aggregate.models import DataValue
from services.sectoral_platform.aggregate.values import check_value, normalise, numeric
from services.sectoral_platform.auth.service import CurrentUser
from services.sectoral_platform.common.errors import bad_request
from services.sectoral_platform.common.web import timestamp
from services.sectoral_platform.metadata.schema import DEFAULT_CATEGORY_OPTION_COMBO
from services.sectoral_platform.metadata.store import MetadataStore

T = DataValue.__table__  # type: ignore[attr-defined]
STRATEGIES = (
    "CREATE_AND_UPDATE",
    "CREATE",
    "UPDATE",
    "DELETE",
    "NEW_AND_UPDATES",
    "NEW",
    "UPDATES",
)
Key = tuple[str, str, str, str, str]


@dataclass
class Conflicts:
    """Conflicts grouped as DHIS2 groups them: one entry per (code, object, message), with indexes."""

    entries: dict[tuple[str, str, str], dict[str, Any]] = field(default_factory=dict)
    rejected: set[int] = field(default_factory=set)

    def add(self, index: int, code: str, prop: str, obj: str, message: str) -> None:
        key = (code, obj, message)
        entry = self.entries.get(key)
        if entry is None:
            entry = {
                "object": obj,
                "objects": {prop: obj},
                "value": message,
                "errorCode": code,
                "property": prop,
                "indexes": [],
            }
            self.entries[key] = entry
        entry["indexes"].append(index)
        self.rejected.add(index)

    def as_list(self) -> list[dict[str, Any]]:
        return list(self.entries.values())


@dataclass
class Row:
    index: int
    key: Key
    value: str | None
    comment: str | None
    followup: bool
    path: str
    pe_start: str
    pe_end: str
    num: float | None


def _text(raw: Any) -> str | None:
    if raw is None:
        return None
    if isinstance(raw, bool):
        return "true" if raw else "false"
    if isinstance(raw, float) and raw.is_integer():
        return str(int(raw))
    return str(raw)


def _validate(
    ctx: ImportContext, user: CurrentUser, header: dict[str, Any], index: int, raw: Any,
    conflicts: Conflicts, capture: list[str], deleting: bool,
) -> Row | None:  # fmt: skip
    if not isinstance(raw, dict):
        conflicts.add(index, "E7600", "dataValue", str(index), "Data value must be an object")
        return None
    de = str(raw.get("dataElement") or "")
    pe = str(raw.get("period") or header.get("period") or "")
    ou = str(raw.get("orgUnit") or header.get("orgUnit") or "")
    co = str(raw.get("categoryOptionCombo") or DEFAULT_CATEGORY_OPTION_COMBO)
    ao = str(
        raw.get("attributeOptionCombo")
        or header.get("attributeOptionCombo")
        or DEFAULT_CATEGORY_OPTION_COMBO
    )
    element = ctx.element(de)
    if element is None:
        conflicts.add(
            index, "E7610", "dataElement", de, f"Data element not found or not accessible: `{de}`"
        )
        return None
    period = ctx.period(pe)
    if period is None:
        conflicts.add(index, "E7611", "period", pe, f"Period not valid: `{pe}`")
        return None
    path = ctx.path(ou)
    if path is None:
        conflicts.add(
            index, "E7612", "orgUnit", ou, f"Org unit not found or not accessible: `{ou}`"
        )
        return None
    if not ctx.is_coc(co):
        conflicts.add(
            index,
            "E7613",
            "categoryOptionCombo",
            co,
            f"Category option combo not found or not accessible for writing data: `{co}`",
        )
        return None
    if co not in ctx.combo_options(element.combo):
        conflicts.add(
            index,
            "E7614",
            "categoryOptionCombo",
            co,
            f"Category option combo: `{co}` must be part of category combo of data element: `{de}`",
        )
        return None
    if not ctx.is_coc(ao):
        conflicts.add(
            index,
            "E7615",
            "attributeOptionCombo",
            ao,
            f"Attribute option combo not found or not accessible for writing data: `{ao}`",
        )
        return None
    if capture is not None and not any(f"/{root}/" in path + "/" for root in capture):
        conflicts.add(
            index,
            "E7620",
            "orgUnit",
            ou,
            f"Organisation unit: `{ou}` not in hierarchy of current user: `{user.username}`",
        )
        return None
    sets = element.data_sets
    header_set = ctx.data_set(header["dataSet"]) if header.get("dataSet") else None
    if header_set is not None:
        sets = [header_set]
    if sets and not any(s.period_type == period.type for s in sets):
        conflicts.add(
            index,
            "E7617",
            "period",
            pe,
            f"Period type of period: `{pe}` not valid for data element: `{de}`",
        )
        return None
    if sets and not any(ou in s.org_units for s in sets):
        conflicts.add(
            index,
            "E7633",
            "orgUnit",
            ou,
            f"Data element: `{de}` must be assigned through data sets to organisation unit: `{ou}`",
        )
        return None
    if sets and all(period.start > ctx.latest_open(s.period_type, s.open_future) for s in sets):
        latest = max(ctx.latest_open(s.period_type, s.open_future) for s in sets)
        conflicts.add(
            index,
            "E7641",
            "period",
            pe,
            f"Period: `{pe}` is after latest open future period: `{latest.isoformat()}` for data element: `{de}`",
        )
        return None
    value = _text(raw.get("value"))
    comment = _text(raw.get("comment"))
    if not deleting:
        if value is None and comment is None:
            conflicts.add(
                index,
                "E7618",
                "value",
                de,
                f"Data value or comment not specified for data element: `{de}`",
            )
            return None
        if value not in (None, ""):
            assert value is not None
            reason = check_value(value, element.value_type)
            if reason is not None:
                conflicts.add(
                    index,
                    "E7619",
                    "value",
                    value,
                    f"Value must match data element's `{de}` type constraints: {reason}",
                )
                return None
            if element.options is not None and value not in element.options:
                conflicts.add(
                    index,
                    "E7621",
                    "value",
                    value,
                    f"Data value is not a valid option of the data element option set: `{de}`",
                )
                return None
            value = normalise(value, element.value_type)
    num = numeric(value, element.value_type) if value else None
    if (
        not deleting
        and num == 0
        and not element.zero_significant
        and element.value_type != "BOOLEAN"
    ):
        value = None  # an insignificant zero is not stored (DHIS2 ignores it)
    return Row(
        index, (de, pe, ou, co, ao), value, comment, bool(raw.get("followup") or raw.get("followUp")),
        path, period.start.isoformat(), period.end.isoformat(), num,
    )  # fmt: skip


def _existing(engine: Engine, rows: list[Row]) -> dict[Key, tuple[Any, ...]]:
    found: dict[Key, tuple[Any, ...]] = {}
    if not rows:
        return found
    des = sorted({r.key[0] for r in rows})
    pes = sorted({r.key[1] for r in rows})
    ous = sorted({r.key[2] for r in rows})
    with engine.connect() as conn:
        for i in range(0, len(ous), 500):
            stmt = select(
                T.c.de, T.c.pe, T.c.ou, T.c.co, T.c.ao, T.c.value, T.c.comment, T.c.followup
            ).where(and_(T.c.de.in_(des), T.c.pe.in_(pes), T.c.ou.in_(ous[i : i + 500])))
            for rec in conn.execute(stmt):
                found[(rec[0], rec[1], rec[2], rec[3], rec[4])] = (rec[5], rec[6], rec[7])
    return found


def import_data_values(
    *, engine: Engine, store: MetadataStore, user: CurrentUser, body: dict[str, Any],
    strategy: str = "CREATE_AND_UPDATE", dry_run: bool = False, today: date | None = None,
) -> dict[str, Any]:  # fmt: skip
    """Import a data value set; returns the ImportSummary (status SUCCESS, WARNING or ERROR)."""
    strategy = strategy.upper()
    if strategy not in STRATEGIES:
        raise bad_request(f"Invalid importStrategy `{strategy}`")
    strategy = {"NEW_AND_UPDATES": "CREATE_AND_UPDATE", "NEW": "CREATE", "UPDATES": "UPDATE"}.get(
        strategy, strategy
    )
    values = body.get("dataValues")
    if values is None:
        values = []
    if not isinstance(values, list):
        raise bad_request("JSON parse error: `dataValues` must be a list")
    ctx = ImportContext(store, today or date.today())
    summary: dict[str, Any] = {
        "responseType": "ImportSummary",
        "status": "SUCCESS",
        "importOptions": {"importStrategy": strategy, "dryRun": dry_run, "idSchemes": {}},
        "description": "Import process completed successfully",
        "importCount": {"imported": 0, "updated": 0, "ignored": 0, "deleted": 0},
        "conflicts": [],
        "rejectedIndexes": [],
        "dataSetComplete": "false",
    }
    ds = body.get("dataSet")
    if ds and ctx.data_set(str(ds)) is None:
        summary["status"] = "ERROR"
        summary["description"] = f"Data set not found or not accessible: `{ds}`"
        summary["conflicts"] = [
            {
                "object": ds,
                "objects": {"dataSet": ds},
                "value": summary["description"],
                "errorCode": "E7600",
                "property": "dataSet",
                "indexes": [],
            }
        ]
        summary["importCount"]["ignored"] = len(values)
        return summary
    capture = None if user.has("ALL") and not user.capture else user.capture
    conflicts = Conflicts()
    deleting = strategy == "DELETE"
    rows: dict[Key, Row] = {}
    for index, raw in enumerate(values):
        row = _validate(ctx, user, body, index, raw, conflicts, capture, deleting)  # type: ignore[arg-type]
        if row is not None:
            rows[row.key] = row  # a later duplicate wins, as in DHIS2
    existing = _existing(engine, list(rows.values()))
    now = timestamp()
    inserts: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    deletes: list[dict[str, Any]] = []
    count = summary["importCount"]
    count["ignored"] += len(conflicts.rejected) + (
        len(values) - len(conflicts.rejected) - len(rows)
    )
    for key, row in rows.items():
        old = existing.get(key)
        keyd = {"k_de": key[0], "k_pe": key[1], "k_ou": key[2], "k_co": key[3], "k_ao": key[4]}
        if deleting or (row.value in (None, "") and row.comment is None):
            if old is None:
                count["ignored"] += 1
            else:
                deletes.append(keyd)
                count["deleted"] += 1
            continue
        if old is None:
            if strategy == "UPDATE" or row.value is None:
                count["ignored"] += 1
                continue
            inserts.append({
                "de": key[0], "pe": key[1], "ou": key[2], "co": key[3], "ao": key[4],
                "value": row.value, "comment": row.comment, "followup": row.followup,
                "ou_path": row.path, "pe_start": row.pe_start, "pe_end": row.pe_end,
                "num": row.num, "stored_by": user.username, "created": now, "last_updated": now,
            })  # fmt: skip
            count["imported"] += 1
        elif strategy == "CREATE":
            count["ignored"] += 1
        else:
            if (row.value, row.comment, row.followup) != old:
                updates.append({**keyd, "value": row.value, "comment": row.comment, "followup": row.followup,
                                "num": row.num, "stored_by": user.username, "last_updated": now})  # fmt: skip
            count["updated"] += 1
    if not dry_run:
        _write(engine, inserts, updates, deletes)
    if conflicts.entries:
        summary["status"] = "WARNING"
        summary["conflicts"] = conflicts.as_list()
        summary["rejectedIndexes"] = sorted(conflicts.rejected)
    return summary


def _key_clause() -> Any:
    return and_(
        T.c.de == bindparam("k_de"), T.c.pe == bindparam("k_pe"), T.c.ou == bindparam("k_ou"),
        T.c.co == bindparam("k_co"), T.c.ao == bindparam("k_ao"),
    )  # fmt: skip


def _write(
    engine: Engine,
    inserts: list[dict[str, Any]],
    updates: list[dict[str, Any]],
    deletes: list[dict[str, Any]],
) -> None:
    """All of one import in one transaction: bulk statements, never one ORM object per row."""
    with engine.begin() as conn:
        if inserts:
            conn.execute(insert(T), inserts)
        if updates:
            stmt = update(T).where(_key_clause()).values(
                value=bindparam("value"), comment=bindparam("comment"),
                followup=bindparam("followup"), num=bindparam("num"),
                stored_by=bindparam("stored_by"), last_updated=bindparam("last_updated"),
            )  # fmt: skip
            conn.execute(stmt, updates)
        if deletes:
            conn.execute(delete(T).where(_key_clause()), deletes)
