"""Notes of enrollments and events, as DHIS2 imports them: only ever added (a stored note is
never changed), a note without text ignored, a uid already taken a warning (E1119) and the note
ignored; the importing user is its `storedBy`."""

from __future__ import annotations

from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.engine import Connection

from services.kernel.time import dhis2_timestamp
from services.sectoral_platform.base import table_of
from services.sectoral_platform.dhis2.uid import generate_uid, is_valid_uid
from services.sectoral_platform.tracker.bundle import Bundle
from services.sectoral_platform.tracker.checks import Checks, Obj
from services.sectoral_platform.tracker.codes import report
from services.sectoral_platform.tracker.models import TrackerNote
from services.sectoral_platform.tracker.state import chunks

NOTE = table_of(TrackerNote)


def taken(conn: Connection, bundle: Bundle) -> set[str]:
    """The note uids of the bundle that are already stored."""
    wanted = {
        str(note["note"])
        for obj in (*bundle.enrollments, *bundle.events)
        for note in _items(obj.get("notes"))
        if note.get("note")
    }
    found: set[str] = set()
    for part in chunks(wanted):
        found.update(conn.execute(select(NOTE.c.uid).where(NOTE.c.uid.in_(part))).scalars())
    return found


def _items(raw: Any) -> list[Obj]:
    return [n for n in raw if isinstance(n, dict)] if isinstance(raw, list) else []


def check(c: Checks, kind: str, uid: str, raw: Any, old: Obj) -> Obj | None:
    """`notes` (the object's after the import: the stored ones and the payload's new ones) and
    `new_notes` (the new ones' uids) for the planned object; None when a note is malformed."""
    notes = list(old.get("notes") or [])
    if raw is not None and not isinstance(raw, list):
        c.fail(kind, uid, "E1048", "Note", raw)
        return None
    now = dhis2_timestamp()
    for item in _items(raw):
        text = item.get("value")
        if not isinstance(text, str) or not text.strip():
            continue  # DHIS2 ignores a note without text
        note = str(item.get("note") or generate_uid())
        if not is_valid_uid(note):
            c.fail(kind, uid, "E1048", "Note", note)
            return None
        if note in c.state.notes:
            c.out.warnings.append(report("E1119", kind, uid, note))
            continue
        c.state.notes.add(note)
        notes.append(
            {
                "note": note,
                "value": text,
                "storedAt": now,
                "storedBy": c.params.user,
                "createdBy": {"username": c.params.user},
            }
        )
    fresh = notes[len(old.get("notes") or []) :]
    return {"notes": notes, "new_notes": [n["note"] for n in fresh]}


def persist(conn: Connection, planned: list[Any]) -> None:
    """Keeps the uids of the notes planned objects add, so none is ever taken twice."""
    rows = [
        {"uid": note, "owner": p.uid}
        for p in planned
        if p.action != "delete"
        for note in p.obj["new_notes"]
    ]
    if rows:
        conn.execute(insert(NOTE), rows)
