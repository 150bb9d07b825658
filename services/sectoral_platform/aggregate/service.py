"""Data value set import: per-row validation with indexed conflicts, bulk writes, ImportSummary."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import and_, bindparam, delete, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from services.kernel.time import dhis2_timestamp as timestamp
from services.sectoral_platform.aggregate import rollup
from services.sectoral_platform.aggregate.context import ImportContext
from services.sectoral_platform.aggregate.models import DataValue
from services.sectoral_platform.aggregate.validation import Conflicts, Key, Row, RowValidator
from services.sectoral_platform.auth.scope import Scope
from services.sectoral_platform.common.errors import bad_request
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
                T.c.de,
                T.c.pe,
                T.c.ou,
                T.c.co,
                T.c.ao,
                T.c.value,
                T.c.comment,
                T.c.followup,
                T.c.num,
                T.c.ou_path,
            ).where(and_(T.c.de.in_(des), T.c.pe.in_(pes), T.c.ou.in_(ous[i : i + 500])))
            for rec in conn.execute(stmt):
                found[(rec[0], rec[1], rec[2], rec[3], rec[4])] = tuple(rec[5:])
    return found


def _import_once(
    *,
    engine: Engine,
    store: MetadataStore,
    scope: Scope,
    body: dict[str, Any],
    strategy: str = "CREATE_AND_UPDATE",
    dry_run: bool = False,
    today: date | None = None,
) -> dict[str, Any]:
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
    user = scope.user
    conflicts = Conflicts()
    deleting = strategy == "DELETE"
    rows: dict[Key, Row] = {}
    validator = RowValidator(ctx, scope, body, deleting)
    for index, raw in enumerate(values):
        row = validator.validate(index, raw, conflicts)
        if row is not None:
            rows[row.key] = row  # a later duplicate wins, as in DHIS2
    existing = _existing(engine, list(rows.values()))
    now = timestamp()
    inserts: list[tuple[Any, ...]] = []
    updates: list[dict[str, Any]] = []
    deletes: list[dict[str, Any]] = []
    delta = rollup.new_delta()
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
                rollup.add(delta, (key[0], key[1], key[3], old[4]), old[3], -1)
                count["deleted"] += 1
            continue
        if old is None:
            if strategy == "UPDATE" or row.value is None:
                count["ignored"] += 1
                continue
            inserts.append(
                (*key, row.value, row.comment, row.followup, row.path, row.pe_start, row.pe_end,
                 row.num, user.username, now, now)
            )  # fmt: skip
            rollup.add(delta, (key[0], key[1], key[3], row.path), row.num, 1)
            count["imported"] += 1
        elif strategy == "CREATE":
            count["ignored"] += 1
        else:
            if (row.value, row.comment, row.followup) != old[:3]:
                rollup.add(delta, (key[0], key[1], key[3], old[4]), old[3], -1)
                rollup.add(delta, (key[0], key[1], key[3], row.path), row.num, 1)
                updates.append(
                    {
                        **keyd,
                        "value": row.value,
                        "comment": row.comment,
                        "followup": row.followup,
                        "num": row.num,
                        "stored_by": user.username,
                        "last_updated": now,
                    }
                )
            count["updated"] += 1
    if not dry_run:
        _write(engine, inserts, updates, deletes, delta)
    if conflicts.entries:
        summary["status"] = "WARNING"
        summary["conflicts"] = conflicts.as_list()
        summary["rejectedIndexes"] = sorted(conflicts.rejected)
    return summary


INSERT_COLUMNS = (
    "de", "pe", "ou", "co", "ao", "value", "comment", "followup", "ou_path", "pe_start",
    "pe_end", "num", "stored_by", "created", "last_updated",
)  # fmt: skip


def import_data_values(**kwargs: Any) -> dict[str, Any]:
    """Import a data value set; a concurrent import that inserted the same keys first makes this
    one's transaction roll back, and the retry then counts those rows as updates."""
    engine: Engine = kwargs["engine"]
    duplicate = (IntegrityError, engine.dialect.dbapi.IntegrityError)  # type: ignore[union-attr]
    for attempt in range(5):
        try:
            return _import_once(**kwargs)
        except duplicate:
            if attempt == 4:
                raise
    raise AssertionError("unreachable")


def _key_clause() -> Any:
    return and_(
        T.c.de == bindparam("k_de"),
        T.c.pe == bindparam("k_pe"),
        T.c.ou == bindparam("k_ou"),
        T.c.co == bindparam("k_co"),
        T.c.ao == bindparam("k_ao"),
    )


def _write(
    engine: Engine,
    inserts: list[tuple[Any, ...]],
    updates: list[dict[str, Any]],
    deletes: list[dict[str, Any]],
    delta: rollup.Delta,
) -> None:
    """All of one import in one transaction: bulk statements, never one ORM object per row."""
    with engine.begin() as conn:
        if inserts:
            # the DBAPI's own executemany: SQLAlchemy's per-row parameter processing would cost
            # more than the insert itself at 10,000 rows a batch
            placeholder = "?" if engine.dialect.paramstyle == "qmark" else "%s"
            sql = (
                f"INSERT INTO {T.name} ({', '.join(INSERT_COLUMNS)}) "
                f"VALUES ({', '.join([placeholder] * len(INSERT_COLUMNS))})"
            )
            cursor = conn.connection.cursor()
            try:
                cursor.executemany(sql, inserts)
            finally:
                cursor.close()
        if updates:
            stmt = (
                update(T)
                .where(_key_clause())
                .values(
                    value=bindparam("value"),
                    comment=bindparam("comment"),
                    followup=bindparam("followup"),
                    num=bindparam("num"),
                    stored_by=bindparam("stored_by"),
                    last_updated=bindparam("last_updated"),
                )
            )
            conn.execute(stmt, updates)
        if deletes:
            conn.execute(delete(T).where(_key_clause()), deletes)
        rollup.apply(conn, engine, delta)
