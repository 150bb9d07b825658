"""Checks of one event: its stage, program, enrollment, status, dates and data values."""

from __future__ import annotations

from typing import Any

from services.kernel.time import dhis2_timestamp
from services.sectoral_platform.tracker import notes
from services.sectoral_platform.tracker.bundle import instant, ref
from services.sectoral_platform.tracker.checks import EN, EV, Checks, Obj
from services.sectoral_platform.tracker.codes import report
from services.sectoral_platform.tracker.payload_fields import client_times

EVENT_STATUSES = ("ACTIVE", "COMPLETED", "VISITED", "SCHEDULE", "OVERDUE", "SKIPPED")
UNDATED_STATUSES = ("SCHEDULE", "OVERDUE", "SKIPPED")


# ---- events ----
def event(c: Checks, uid: str, ev: Obj, old: Obj) -> Obj | None:
    enrollment = ref(ev.get("enrollment")) or old.get("enrollment")
    if enrollment in c.out.failed[EN]:
        c.fail(EV, uid, "E5000", EV, uid, EN, enrollment)
        return None
    stage_uid = ref(ev.get("programStage")) or old.get("program_stage")
    stage = c.meta.stage(stage_uid or "")
    if stage_uid is None:
        c.fail(EV, uid, "E1123", "programStage")
    elif stage is None:
        c.fail(EV, uid, "E1013", stage_uid)
    program_uid = ref(ev.get("program")) or (stage.program if stage else None)
    program = c.meta.program(program_uid or "")
    if program_uid is None:
        c.fail(EV, uid, "E1123", "program")
    elif program is None:
        c.fail(EV, uid, "E1010", program_uid)
    elif stage is not None and stage.program != program.uid:
        c.fail(EV, uid, "E1089", uid, stage.uid, program.uid)
    ou = ref(ev.get("orgUnit")) or old.get("org_unit")
    c.org_unit(EV, uid, ou, "E1011", program)
    te = None
    if program is not None and program.with_registration:
        te = _event_enrollment(c, uid, ev, enrollment)
        parent = c.enrollment_objs.get(enrollment or "") or c.state.enrollments.get(
            enrollment or ""
        )
        if parent is not None and parent["program"] != program.uid:
            c.fail(EV, uid, "E1079", uid, program.uid, enrollment)
    if old:
        for name, key in (("programStage", "program_stage"), ("enrollment", "enrollment")):
            sent = ref(ev.get(name))
            if sent is not None and sent != old.get(key):
                c.fail(EV, uid, "E1128", name)
    status = str(ev.get("status") or old.get("status") or "ACTIVE").upper()
    if status not in EVENT_STATUSES:
        c.fail(EV, uid, "E1031", status)
    occurred = instant(ev.get("occurredAt")) or old.get("occurred_at")
    scheduled = instant(ev.get("scheduledAt"))
    if occurred is None and status not in UNDATED_STATUSES:
        c.fail(EV, uid, "E1031")
    if occurred is None and scheduled is None and status in ("SCHEDULE", "OVERDUE"):
        c.fail(EV, uid, "E1050")
    values = c.values(EV, uid, ev.get("dataValues"), attributes=False)
    written = notes.check(c, EV, uid, ev.get("notes"), old)
    geometry = c.geometry(
        EV, uid, ev.get("geometry"), c.meta.feature_type("programStages", stage_uid or "")
    )
    if stage is None or program is None or ou is None or values is None or written is None:
        return None
    if enrollment is not None and not stage.repeatable:
        others = c.state.stage_events[(enrollment, stage.uid)] - {uid}
        if others:
            c.fail(EV, uid, "E1039", stage.uid)
        else:
            c.state.stage_events[(enrollment, stage.uid)].add(uid)
    for item in values:
        if item["dataElement"] not in stage.elements:
            c.fail(EV, uid, "E1305", item["dataElement"], stage.uid)
    if status == "COMPLETED":
        given = {v["dataElement"] for v in values if v["value"] is not None}
        for de, compulsory in stage.elements.items():
            if compulsory and de not in given:
                c.fail(EV, uid, "E1303", de)
    return {
        "enrollment": enrollment,
        "te": te,
        "program": program.uid,
        "program_stage": stage.uid,
        "org_unit": ou,
        "status": status,
        "occurred_at": occurred,
        "scheduled_at": scheduled,
        "completed_at": _completed_at(status, ev, old),
        "geometry": geometry,
        "data_values": values,
        "stored_values": old.get("data_values") or [],
        "assigned_user": _assigned_user(c, uid, ev.get("assignedUser"), stage.uid, old),
        **written,
        **client_times(ev),
    }


def _completed_at(status: str, ev: Obj, old: Obj) -> str | None:
    """DHIS2 dates an event becoming COMPLETED with the payload's `completedAt` (else now),
    keeps the date while it stays COMPLETED and clears it otherwise."""
    if status != "COMPLETED":
        return None
    if old.get("stored_status") == "COMPLETED":
        return old.get("completed_at")
    return instant(ev.get("completedAt")) or dhis2_timestamp()


def _assigned_user(c: Checks, uid: str, raw: Any, stage: str, old: Obj) -> Obj | None:
    """DHIS2 assigns a user it finds (by username, else uid; E1118 otherwise) when the stage
    has `enableUserAssignment` (else a warning E1120); a payload without one keeps the stored."""
    stored: Obj | None = old.get("assigned_user")
    if raw is None or (isinstance(raw, dict) and not (raw.get("uid") or raw.get("username"))):
        return stored
    user = c.meta.user(raw) if isinstance(raw, dict) else None
    if user is None:
        shown = str(raw)
        if isinstance(raw, dict):
            shown = f"User(uid={raw.get('uid')}, username={raw.get('username')})"
        c.fail(EV, uid, "E1118", shown)
        return None
    if not (c.meta.store.get("programStages", stage) or {}).get("enableUserAssignment"):
        c.out.warnings.append(report("E1120", EV, uid, stage))
        return stored
    return {
        "uid": user["id"],
        "username": user["username"],
        "firstName": user.get("firstName", ""),
        "surname": user.get("surname", ""),
        "displayName": f"{user.get('firstName', '')} {user.get('surname', '')}".strip(),
    }


def _event_enrollment(c: Checks, uid: str, ev: Obj, enrollment: str | None) -> str | None:
    """A tracker event needs an enrollment that exists and is still open."""
    planned = enrollment in c.planned_enrollments
    stored = c.state.enrollments.get(enrollment or "")
    if enrollment is None or (not planned and stored is None):
        c.fail(EV, uid, "E1033", uid, enrollment)
    elif stored is not None and not planned and stored["status"] != "ACTIVE":
        c.fail(EV, uid, "E1037", uid, enrollment, stored["status"])
    return (
        c.planned_enrollments.get(enrollment or "")
        or (stored or {}).get("te")
        or ref(ev.get("trackedEntity"))
    )
