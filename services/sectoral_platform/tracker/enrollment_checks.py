"""Checks of one enrollment: its tracked entity, program, dates, status and attributes."""

from __future__ import annotations

from services.kernel.time import dhis2_timestamp
from services.sectoral_platform.tracker import notes
from services.sectoral_platform.tracker.bundle import instant, ref
from services.sectoral_platform.tracker.checks import EN, TE, Checks, Obj
from services.sectoral_platform.tracker.meta import ProgramInfo
from services.sectoral_platform.tracker.payload_fields import client_times

ENROLLMENT_STATUSES = ("ACTIVE", "COMPLETED", "CANCELLED")


# ---- enrollments ----
def enrollment(c: Checks, uid: str, en: Obj, old: Obj) -> Obj | None:
    te = ref(en.get("trackedEntity")) or old.get("te")
    if te in c.out.failed[TE]:
        c.fail(EN, uid, "E5000", EN, uid, TE, te)
        return None
    stored_te = c.state.tracked_entities.get(te or "")
    te_type = c.te_types.get(te or "") or (stored_te or {}).get("tracked_entity_type")
    if te is None:
        c.fail(EN, uid, "E1122", "trackedEntity")
    elif te_type is None:
        c.fail(EN, uid, "E1068", te)
    program_uid = ref(en.get("program")) or old.get("program")
    program = c.meta.program(program_uid or "")
    if program_uid is None:
        c.fail(EN, uid, "E1122", "program")
    elif program is None:
        c.fail(EN, uid, "E1069", program_uid)
    elif not program.with_registration:
        c.fail(EN, uid, "E1014", program.uid)
    elif te_type is not None and program.tracked_entity_type not in (None, te_type):
        c.fail(EN, uid, "E1022", te, program.uid)
    ou = ref(en.get("orgUnit")) or old.get("org_unit")
    c.org_unit(EN, uid, ou, "E1070", program)
    raw_enrolled = en.get("enrolledAt")
    enrolled = instant(raw_enrolled) or old.get("enrolled_at")
    if enrolled is None:
        c.fail(EN, uid, "E1025", raw_enrolled)
    occurred = instant(en.get("occurredAt")) or old.get("occurred_at")
    if program is not None and program.display_incident_date and occurred is None:
        c.fail(EN, uid, "E1023", en.get("occurredAt"))
    if program is not None:
        _dates(c, uid, program, enrolled, occurred)
    if old:
        for name, key in (("trackedEntity", "te"), ("program", "program")):
            given = ref(en.get(name))
            if given is not None and given != old.get(key):
                c.fail(EN, uid, "E1127", name)
    status = str(en.get("status") or old.get("status") or "ACTIVE").upper()
    if status not in ENROLLMENT_STATUSES:
        c.fail(EN, uid, "E1025", status)
    values = c.values(EN, uid, en.get("attributes"), attributes=True)
    written = notes.check(c, EN, uid, en.get("notes"), old)
    geometry = c.geometry(
        EN, uid, en.get("geometry"), c.meta.feature_type("programs", program_uid or "")
    )
    if program is None or te is None or ou is None or values is None or written is None:
        return None
    _enrollment_attributes(c, uid, te, program, values, stored_te)
    if not old and status == "ACTIVE":
        _single_active(c, uid, te, program)
    c.state.enrollment_statuses[(te, program.uid)].append((uid, status))
    c.planned_enrollments[uid] = te
    c.enrollment_objs[uid] = {"program": program.uid, "enrolled_at": enrolled,
                              "occurred_at": occurred or enrolled, "status": status}  # fmt: skip
    return {
        "te": te,
        "program": program.uid,
        "org_unit": ou,
        "status": status,
        "enrolled_at": enrolled,
        "occurred_at": occurred or enrolled,
        "completed_at": completed_at(status, en, old),
        "follow_up": en.get("followUp") is True,
        "geometry": geometry,
        "attributes": values,
        **written,
        **client_times(en),
    }


def completed_at(status: str, obj: Obj, old: Obj) -> str | None:
    """DHIS2 dates a change of status to COMPLETED or CANCELLED with the payload's
    `completedAt` (else now), clears it on ACTIVE and keeps it while the status stays."""
    if old and status == old.get("status"):
        return old.get("completed_at")
    if status in ("COMPLETED", "CANCELLED"):
        return instant(obj.get("completedAt")) or dhis2_timestamp()
    return None


def _enrollment_attributes(
    c: Checks, uid: str, te: str, program: ProgramInfo, values: list[Obj], stored: Obj | None
) -> None:
    for value in values:
        if value["attribute"] not in program.attributes:
            c.fail(EN, uid, "E1019", value["attribute"])
    have = c.te_attrs.get(te, set()) | {v["attribute"] for v in values if v["value"]}
    have |= {a["attribute"] for a in (stored or {}).get("attributes") or [] if a.get("value")}
    for attr in program.mandatory:
        if attr not in have:
            c.fail(EN, uid, "E1018", attr, program.uid, uid)
    c.unique(EN, uid, te, values)


def _single_active(c: Checks, uid: str, te: str, program: ProgramInfo) -> None:
    others = [s for u, s in c.state.enrollment_statuses.get((te, program.uid), []) if u != uid]
    if program.only_enroll_once and others:
        c.fail(EN, uid, "E1016", te, program.uid)
    elif "ACTIVE" in others:
        c.fail(EN, uid, "E1015", te, program.uid)


def _dates(
    c: Checks, uid: str, program: ProgramInfo, enrolled: str | None, occurred: str | None
) -> None:
    """E1020 / E1021: no future dates unless the program allows them."""
    today = dhis2_timestamp()[:10]
    if enrolled and enrolled[:10] > today and not program.future_enrollment:
        c.fail(EN, uid, "E1020", enrolled)
    if occurred and occurred[:10] > today and not program.future_incident:
        c.fail(EN, uid, "E1021", occurred)
