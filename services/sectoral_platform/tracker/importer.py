"""Runs a tracker import: validate the bundle, write what may be written, build the report."""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from collections.abc import Mapping
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.engine import Connection, Engine

from services.kernel.time import dhis2_timestamp
from services.sectoral_platform.events.outbox import enqueue_immunisations
from services.sectoral_platform.metadata.store import MetadataStore
from services.sectoral_platform.tracker import notes
from services.sectoral_platform.tracker.bulk import insert_rows
from services.sectoral_platform.tracker.bundle import Bundle, ImportParams
from services.sectoral_platform.tracker.checks import Outcome, Planned, unique_candidates
from services.sectoral_platform.tracker.meta import TrackerMeta
from services.sectoral_platform.tracker.relationships import (
    cascade,
    check_relationships,
    load_links,
)
from services.sectoral_platform.tracker.relationships import persist as persist_relationships
from services.sectoral_platform.tracker.state import EN, EV, TE, TEAV, chunks, load_state
from services.sectoral_platform.tracker.validation import Validator

Obj = dict[str, Any]
KINDS = ("TRACKED_ENTITY", "ENROLLMENT", "EVENT", "RELATIONSHIP")
# One import at a time: unique-value and existence checks must see every earlier commit.
_IMPORT_LOCK = threading.Lock()


def import_bundle(
    *,
    engine: Engine,
    store: MetadataStore,
    bundle: Bundle,
    params: ImportParams,
    capture: list[str] | None,
) -> Obj:
    """The tracker ImportReport for `bundle`; nothing is written in VALIDATE mode or when
    `atomicMode=ALL` meets an error."""
    started = time.perf_counter()
    meta = TrackerMeta(store)
    with _IMPORT_LOCK, engine.begin() as conn:
        state = load_state(conn, bundle, unique_candidates(bundle, meta))
        state.notes = notes.taken(conn, bundle)
        links = load_links(conn, bundle)
        validator = Validator(meta, state, params, capture)
        outcome = validator.run(bundle)
        check_relationships(validator, bundle, links)
        validated = time.perf_counter()
        commit = params.import_mode == "COMMIT" and not (
            outcome.errors and params.atomic_mode == "ALL"
        )
        if commit:
            _persist(conn, meta, outcome, state.tracked_entities)
    return _report(bundle, outcome, params, commit, started, validated)


def _persist(
    conn: Connection, meta: TrackerMeta, outcome: Outcome, stored_te: dict[str, Obj]
) -> None:
    now = dhis2_timestamp()
    tes, ens, evs = (outcome.planned[k] for k in ("TRACKED_ENTITY", "ENROLLMENT", "EVENT"))
    persist_relationships(conn, outcome.planned["RELATIONSHIP"], now)
    _delete(conn, [p.uid for p in evs if p.action == "delete"], [], [])
    _delete(conn, [], [p.uid for p in ens if p.action == "delete"], [])
    _delete(conn, [], [], [p.uid for p in tes if p.action == "delete"])
    attributes: dict[str, dict[str, str | None]] = defaultdict(dict)
    for p in tes:
        if p.action != "delete":
            attributes[p.uid].update({v["attribute"]: v["value"] for v in p.obj["attributes"]})
    for p in ens:
        if p.action != "delete" and p.obj["attributes"]:
            attributes[p.obj["te"]].update(
                {v["attribute"]: v["value"] for v in p.obj["attributes"]}
            )
    new_te = [p for p in tes if p.action == "create"]
    if new_te:
        rows = []
        for p in new_te:
            merged = {k: v for k, v in attributes.pop(p.uid).items() if v is not None}
            rows.append({**_te_row(p, meta, now), "attributes": _attr_list(merged), "created": now})
        conn.execute(insert(TE), rows)
        values = [
            {"te": r["uid"], "attribute": a["attribute"], "value": a["value"]}
            for r in rows
            for a in r["attributes"]
        ]
        if values:
            conn.execute(insert(TEAV), values)
    updated_te = {p.uid: p for p in tes if p.action == "update"}
    for te_uid, changes in attributes.items():
        stored = stored_te.get(te_uid)
        if stored is None:
            continue
        current = {a["attribute"]: a["value"] for a in stored["attributes"]}
        current.update(changes)
        merged = {k: v for k, v in current.items() if v is not None}
        row = {"attributes": _attr_list(merged), "updated": now}
        if te_uid in updated_te:
            row.update(_te_row(updated_te[te_uid], meta, now))
        conn.execute(update(TE).where(TE.c.uid == te_uid).values(**row))
        conn.execute(delete(TEAV).where(TEAV.c.te == te_uid, TEAV.c.attribute.in_(list(changes))))
        fresh = [
            {"te": te_uid, "attribute": k, "value": v} for k, v in changes.items() if v is not None
        ]
        if fresh:
            conn.execute(insert(TEAV), fresh)
    _upsert(
        conn,
        EN,
        [_en_row(p, meta, now) for p in ens if p.action == "create"],
        [_en_row(p, meta, now) for p in ens if p.action == "update"],
    )
    kept = [p for p in evs if p.action != "delete"]
    written = [_ev_row(p, meta, now) for p in kept]
    pairs = list(zip(written, kept, strict=True))
    created = [row for row, p in pairs if p.action == "create"]
    _upsert(conn, EV, created, [row for row, p in pairs if p.action == "update"])
    enqueue_immunisations(conn, written)
    notes.persist(conn, [*ens, *evs])


def _attr_list(values: Mapping[str, str | None]) -> list[Obj]:
    return [{"attribute": k, "value": v} for k, v in values.items()]


def _te_row(p: Planned, meta: TrackerMeta, now: str) -> Obj:
    o = p.obj
    return {
        "uid": p.uid,
        "tracked_entity_type": o["tracked_entity_type"],
        "org_unit": o["org_unit"],
        "ou_path": meta.path(o["org_unit"]),
        "inactive": o["inactive"],
        "potential_duplicate": o["potential_duplicate"],
        "geometry": o["geometry"],
        "created_at_client": o["created_at_client"],
        "updated_at_client": o["updated_at_client"],
        "updated": now,
    }


def _en_row(p: Planned, meta: TrackerMeta, now: str) -> Obj:
    o = p.obj
    return {
        "uid": p.uid,
        "te": o["te"],
        "program": o["program"],
        "org_unit": o["org_unit"],
        "ou_path": meta.path(o["org_unit"]),
        "status": o["status"],
        "enrolled_at": o["enrolled_at"],
        "occurred_at": o["occurred_at"],
        "completed_at": o["completed_at"],
        "follow_up": o["follow_up"],
        "geometry": o["geometry"],
        "notes": o["notes"],
        "created_at_client": o["created_at_client"],
        "updated_at_client": o["updated_at_client"],
        "created": now,
        "updated": now,
    }


def _ev_row(p: Planned, meta: TrackerMeta, now: str) -> Obj:
    o = p.obj
    return {
        "uid": p.uid,
        "enrollment": o["enrollment"],
        "te": o["te"],
        "program": o["program"],
        "program_stage": o["program_stage"],
        "org_unit": o["org_unit"],
        "ou_path": meta.path(o["org_unit"]),
        "status": o["status"],
        "occurred_at": o["occurred_at"],
        "scheduled_at": o["scheduled_at"],
        "completed_at": o["completed_at"],
        "geometry": o["geometry"],
        "assigned_user": o["assigned_user"],
        "created_at_client": o["created_at_client"],
        "updated_at_client": o["updated_at_client"],
        "notes": o["notes"],
        "data_values": _merged_values(o, now),
        "created": now,
        "updated": now,
    }


def _merged_values(o: Obj, now: str) -> list[Obj]:
    """DHIS2 writes only the data values the payload names (an empty one deletes), keeping the
    others, and a value's `createdAt`."""
    merged = {v["dataElement"]: v for v in o["stored_values"]}
    for v in o["data_values"]:
        if v["value"] is None:
            merged.pop(v["dataElement"], None)
        else:
            created = merged.get(v["dataElement"], {}).get("createdAt", now)
            merged[v["dataElement"]] = {**v, "createdAt": created, "updatedAt": now}
    return list(merged.values())


def _upsert(conn: Connection, table: Any, created: list[Obj], updated: list[Obj]) -> None:
    insert_rows(conn, table, created)
    for row in updated:
        row.pop("created")
        conn.execute(update(table).where(table.c.uid == row["uid"]).values(**row))


def _delete(conn: Connection, events: list[str], enrollments: list[str], tes: list[str]) -> None:
    """Deleting a parent deletes its children (DHIS2 soft-deletes; the sandbox removes)."""
    for part in chunks(tes):
        enrollments += list(conn.execute(select(EN.c.uid).where(EN.c.te.in_(part))).scalars())
        events += list(conn.execute(select(EV.c.uid).where(EV.c.te.in_(part))).scalars())
        conn.execute(delete(EV).where(EV.c.te.in_(part)))
        conn.execute(delete(TEAV).where(TEAV.c.te.in_(part)))
        conn.execute(delete(TE).where(TE.c.uid.in_(part)))
    for part in chunks(enrollments):
        events += list(conn.execute(select(EV.c.uid).where(EV.c.enrollment.in_(part))).scalars())
        conn.execute(delete(EV).where(EV.c.enrollment.in_(part)))
        conn.execute(delete(EN).where(EN.c.uid.in_(part)))
    for part in chunks(events):
        conn.execute(delete(EV).where(EV.c.uid.in_(part)))
    cascade(conn, [*tes, *enrollments, *events])


def _stats(created: int = 0, updated: int = 0, deleted: int = 0, ignored: int = 0) -> Obj:
    total = created + updated + deleted + ignored
    return {
        "created": created,
        "updated": updated,
        "deleted": deleted,
        "ignored": ignored,
        "total": total,
    }


def _report(
    bundle: Bundle,
    outcome: Outcome,
    params: ImportParams,
    commit: bool,
    started: float,
    validated: float,
) -> Obj:
    sizes = {
        "TRACKED_ENTITY": len(bundle.tracked_entities),
        "ENROLLMENT": len(bundle.enrollments),
        "EVENT": len(bundle.events),
        "RELATIONSHIP": len(bundle.relationships),
    }
    type_map: Obj = {}
    totals = _stats()
    for kind in KINDS:
        planned = outcome.planned.get(kind, []) if commit else []
        counts = {"create": 0, "update": 0, "delete": 0}
        for p in planned:
            counts[p.action] += 1
        stats = _stats(
            counts["create"], counts["update"], counts["delete"], sizes[kind] - len(planned)
        )
        for key in totals:
            totals[key] += stats[key]
        type_map[kind] = {
            "trackerType": kind,
            "stats": stats,
            "objectReports": [
                {"trackerType": kind, "uid": p.uid, "errorReports": []} for p in planned
            ],
        }
    has_errors = bool(outcome.errors)
    status = "ERROR" if has_errors else "OK"
    report: Obj = {
        "status": status,
        "validationReport": {
            "errorReports": outcome.errors,
            "warningReports": outcome.warnings if params.report_mode != "ERRORS" else [],
        },
        "stats": totals,
        "bundleReport": {"status": status, "typeReportMap": type_map, "stats": totals},
        "message": None,
    }
    if params.report_mode == "FULL":
        finished = time.perf_counter()
        report["timingsStats"] = {
            "timers": {
                "validation": f"{validated - started:.3f} sec.",
                "commit": f"{finished - validated:.3f} sec.",
                "totalImport": f"{finished - started:.3f} sec.",
            }
        }
    return report
