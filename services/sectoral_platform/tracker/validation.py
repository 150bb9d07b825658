"""Tracker validation with DHIS2's error codes; decides create, update or delete per object."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from services.sectoral_platform.aggregate.values import check_value
from services.sectoral_platform.auth.scope import in_hierarchy
from services.sectoral_platform.dhis2.uid import is_valid_uid
from services.sectoral_platform.tracker.bundle import Bundle, ImportParams, instant, ref
from services.sectoral_platform.tracker.codes import report
from services.sectoral_platform.tracker.meta import ProgramInfo, TrackerMeta, ValueInfo
from services.sectoral_platform.tracker.state import ExistingState

Obj = dict[str, Any]
TE, EN, EV = "TRACKED_ENTITY", "ENROLLMENT", "EVENT"
LABELS = {TE: "TrackedEntity", EN: "Enrollment", EV: "Event"}
EXISTS_CODES = {TE: ("E1002", "E1063"), EN: ("E1080", "E1081"), EV: ("E1030", "E1032")}
ENROLLMENT_STATUSES = ("ACTIVE", "COMPLETED", "CANCELLED")
EVENT_STATUSES = ("ACTIVE", "COMPLETED", "VISITED", "SCHEDULE", "OVERDUE", "SKIPPED")
UNDATED_STATUSES = ("SCHEDULE", "OVERDUE", "SKIPPED")


@dataclass
class Planned:
    """One object that passed validation: what to do and the normalised object."""

    kind: str
    uid: str
    action: str  # create, update, delete
    obj: Obj


@dataclass
class Outcome:
    errors: list[Obj] = field(default_factory=list)
    warnings: list[Obj] = field(default_factory=list)
    planned: dict[str, list[Planned]] = field(default_factory=lambda: {TE: [], EN: [], EV: []})
    failed: dict[str, set[str]] = field(default_factory=lambda: {TE: set(), EN: set(), EV: set()})


def unique_candidates(bundle: Bundle, meta: TrackerMeta) -> set[tuple[str, str]]:
    """(attribute, value) pairs of unique attributes in the bundle: checked in one query."""
    found: set[tuple[str, str]] = set()
    for obj in (*bundle.tracked_entities, *bundle.enrollments):
        for item in obj.get("attributes") or []:
            if not isinstance(item, dict):
                continue
            info = meta.attribute(ref(item.get("attribute")) or "")
            if info is not None and info.unique and item.get("value") not in (None, ""):
                found.add((info.uid, str(item["value"])))
    return found


def _text(raw: Any) -> str | None:
    if raw is None or raw == "":
        return None
    return str(raw).lower() if isinstance(raw, bool) else str(raw)


class Validator:
    def __init__(
        self,
        meta: TrackerMeta,
        state: ExistingState,
        params: ImportParams,
        capture: list[str] | None,
    ) -> None:
        self.meta = meta
        self.state = state
        self.params = params
        self.capture = capture  # None: no restriction (superuser)
        self.out = Outcome()
        self.te_types: dict[str, str] = {}  # planned tracked entity -> its type
        self.te_attrs: dict[str, set[str]] = {}
        self.claimed: dict[tuple[str, str], str] = {}
        self.planned_enrollments: dict[str, str] = {}  # enrollment -> tracked entity

    def run(self, bundle: Bundle) -> Outcome:
        for te in bundle.tracked_entities:
            self._checked(TE, te, "trackedEntity", self._tracked_entity)
        for enrollment in bundle.enrollments:
            self._checked(EN, enrollment, "enrollment", self._enrollment)
        for event in bundle.events:
            self._checked(EV, event, "event", self._event)
        return self.out

    def _checked(self, kind: str, obj: Obj, key: str, check: Any) -> None:
        uid = str(obj[key])
        existing = {
            TE: self.state.tracked_entities,
            EN: self.state.enrollments,
            EV: self.state.events,
        }[kind].get(uid)
        action = self._action(kind, uid, existing is not None)
        if action in ("update", "delete") and not self._owned(kind, uid, existing or {}):
            return
        if action == "delete":
            self.out.planned[kind].append(Planned(kind, uid, action, {}))
        elif action is not None:
            before = len(self.out.errors)
            planned = check(uid, obj, existing or {})
            if planned is not None and len(self.out.errors) == before:
                self.out.planned[kind].append(Planned(kind, uid, action, planned))

    def _owned(self, kind: str, uid: str, existing: Obj) -> bool:
        """Updating or deleting a stored object needs its stored org unit in the capture scope,
        whatever org unit the payload names."""
        if self.capture is None or in_hierarchy(existing.get("ou_path"), self.capture):
            return True
        self._fail(kind, uid, "E1000", existing.get("org_unit"))
        return False

    def _action(self, kind: str, uid: str, exists: bool) -> str | None:
        strategy = self.params.strategy
        if not is_valid_uid(uid):
            self._fail(kind, uid, "E1048", LABELS[kind], uid)
        elif strategy == "CREATE" and exists:
            self._fail(kind, uid, EXISTS_CODES[kind][0], uid)
        elif strategy in ("UPDATE", "DELETE") and not exists:
            self._fail(kind, uid, EXISTS_CODES[kind][1], uid)
        elif strategy == "DELETE":
            return "delete"
        else:
            return "update" if exists else "create"
        return None

    def _fail(self, kind: str, uid: str, code: str, *args: object) -> None:
        self.out.errors.append(report(code, kind, uid, *args))
        self.out.failed[kind].add(uid)

    def _org_unit(self, kind: str, uid: str, ou: str | None, code: str, program: Any) -> bool:
        """Exists (`code`), assigned to the program (E1041/E1029), inside the capture scope."""
        if not ou or not self.meta.org_unit_exists(ou):
            self._fail(kind, uid, code, ou)
            return False
        if program is not None and ou not in program.org_units:
            self._fail(kind, uid, "E1041" if kind == EN else "E1029", ou, program.uid)
            return False
        if self.capture is not None and not in_hierarchy(self.meta.path(ou), self.capture):
            self._fail(kind, uid, "E1000", ou)
            return False
        return True

    def _values(self, kind: str, uid: str, items: Any, attributes: bool) -> list[Obj] | None:
        """Attribute or data values, checked against their value types and option sets."""
        clean: list[Obj] = []
        ok = True
        key_name = "attribute" if attributes else "dataElement"
        for item in items if isinstance(items, list) else []:
            key = ref(item.get(key_name)) if isinstance(item, dict) else None
            info = (self.meta.attribute if attributes else self.meta.element)(key or "")
            if info is None:
                self._fail(kind, uid, "E1006" if attributes else "E1304", key)
                ok = False
                continue
            value = _text(item.get("value"))
            if value is not None and not self._value_ok(kind, uid, info, value, attributes):
                ok = False
                continue
            clean.append({key_name: info.uid, "value": value})
        return clean if ok else None

    def _value_ok(self, kind: str, uid: str, info: ValueInfo, value: str, attr: bool) -> bool:
        reason = check_value(value, info.value_type)
        if reason is not None:
            if attr:
                self._fail(kind, uid, "E1085", info.uid, info.value_type)
            else:
                self._fail(kind, uid, "E1302", value, info.uid, reason)
            return False
        if info.options is not None and value not in info.options:
            self._fail(kind, uid, "E1125", value, info.uid, info.name)
            return False
        return True

    def _unique(self, kind: str, uid: str, owner: str, values: list[Obj]) -> None:
        for item in values:
            info = self.meta.attribute(item["attribute"])
            if info is None or not info.unique or item["value"] is None:
                continue
            key = (info.uid, item["value"])
            holder = self.claimed.get(key) or self.state.unique_owner.get(key)
            if holder is not None and holder != owner:
                self._fail(kind, uid, "E1064", item["value"], info.uid)
            else:
                self.claimed[key] = owner

    # ---- tracked entities ----
    def _tracked_entity(self, uid: str, te: Obj, old: Obj) -> Obj | None:
        tet = ref(te.get("trackedEntityType")) or old.get("tracked_entity_type")
        mandatory = self.meta.tet_mandatory(tet or "")
        if mandatory is None:
            self._fail(TE, uid, "E1005", tet)
        ou = ref(te.get("orgUnit")) or old.get("org_unit")
        self._org_unit(TE, uid, ou, "E1049", None)
        values = self._values(TE, uid, te.get("attributes"), attributes=True)
        if values is None:
            return None
        given = {v["attribute"] for v in values if v["value"] is not None}
        given |= {a["attribute"] for a in old.get("attributes") or [] if a.get("value")}
        for attr in mandatory or []:
            if attr not in given:
                self._fail(TE, uid, "E1090", attr, tet, uid)
        self._unique(TE, uid, uid, values)
        if tet is None or ou is None:
            return None
        self.te_types[uid] = tet
        self.te_attrs[uid] = given
        return {
            "tracked_entity_type": tet,
            "org_unit": ou,
            "inactive": bool(te.get("inactive")),
            "attributes": values,
        }

    # ---- enrollments ----
    def _enrollment(self, uid: str, en: Obj, old: Obj) -> Obj | None:
        te = ref(en.get("trackedEntity")) or old.get("te")
        if te in self.out.failed[TE]:
            self._fail(EN, uid, "E5000", EN, uid, TE, te)
            return None
        stored_te = self.state.tracked_entities.get(te or "")
        te_type = self.te_types.get(te or "") or (stored_te or {}).get("tracked_entity_type")
        if te_type is None:
            self._fail(EN, uid, "E1068", te)
        program_uid = ref(en.get("program")) or old.get("program")
        program = self.meta.program(program_uid or "")
        if program is None:
            self._fail(EN, uid, "E1069", program_uid)
        elif not program.with_registration:
            self._fail(EN, uid, "E1014", program.uid)
        elif te_type is not None and program.tracked_entity_type not in (None, te_type):
            self._fail(EN, uid, "E1022", te, program.uid)
        ou = ref(en.get("orgUnit")) or old.get("org_unit")
        self._org_unit(EN, uid, ou, "E1070", program)
        raw_enrolled = en.get("enrolledAt") or en.get("enrollmentDate")
        enrolled = instant(raw_enrolled) or old.get("enrolled_at")
        if enrolled is None:
            self._fail(EN, uid, "E1025", raw_enrolled)
        occurred = instant(en.get("occurredAt") or en.get("incidentDate")) or old.get("occurred_at")
        if program is not None and program.display_incident_date and occurred is None:
            self._fail(EN, uid, "E1023", en.get("occurredAt"))
        status = str(en.get("status") or old.get("status") or "ACTIVE").upper()
        if status not in ENROLLMENT_STATUSES:
            self._fail(EN, uid, "E1025", status)
        values = self._values(EN, uid, en.get("attributes"), attributes=True)
        if program is None or te is None or ou is None or values is None:
            return None
        self._enrollment_attributes(uid, te, program, values, stored_te)
        if not old and status == "ACTIVE":
            self._single_active(uid, te, program)
        self.state.enrollment_statuses[(te, program.uid)].append((uid, status))
        self.planned_enrollments[uid] = te
        return {
            "te": te,
            "program": program.uid,
            "org_unit": ou,
            "status": status,
            "enrolled_at": enrolled,
            "occurred_at": occurred or enrolled,
            "attributes": values,
        }

    def _enrollment_attributes(
        self, uid: str, te: str, program: ProgramInfo, values: list[Obj], stored: Obj | None
    ) -> None:
        for value in values:
            if value["attribute"] not in program.attributes:
                self._fail(EN, uid, "E1019", value["attribute"])
        have = self.te_attrs.get(te, set()) | {v["attribute"] for v in values if v["value"]}
        have |= {a["attribute"] for a in (stored or {}).get("attributes") or [] if a.get("value")}
        for attr in program.mandatory:
            if attr not in have:
                self._fail(EN, uid, "E1018", attr, program.uid, uid)
        self._unique(EN, uid, te, values)

    def _single_active(self, uid: str, te: str, program: ProgramInfo) -> None:
        others = [
            s for u, s in self.state.enrollment_statuses.get((te, program.uid), []) if u != uid
        ]
        if program.only_enroll_once and others:
            self._fail(EN, uid, "E1016", te, program.uid)
        elif "ACTIVE" in others:
            self._fail(EN, uid, "E1015", te, program.uid)

    # ---- events ----
    def _event(self, uid: str, ev: Obj, old: Obj) -> Obj | None:
        enrollment = ref(ev.get("enrollment")) or old.get("enrollment")
        if enrollment in self.out.failed[EN]:
            self._fail(EV, uid, "E5000", EV, uid, EN, enrollment)
            return None
        stage_uid = ref(ev.get("programStage")) or old.get("program_stage")
        stage = self.meta.stage(stage_uid or "")
        if stage is None:
            self._fail(EV, uid, "E1013", stage_uid)
        program_uid = ref(ev.get("program")) or (stage.program if stage else None)
        program = self.meta.program(program_uid or "")
        if program is None:
            self._fail(EV, uid, "E1010", program_uid)
        elif stage is not None and stage.program != program.uid:
            self._fail(EV, uid, "E1089", uid, stage.uid, program.uid)
        ou = ref(ev.get("orgUnit")) or old.get("org_unit")
        self._org_unit(EV, uid, ou, "E1011", program)
        te = None
        if program is not None and program.with_registration:
            te = self._event_enrollment(uid, ev, enrollment)
        status = str(ev.get("status") or old.get("status") or "ACTIVE").upper()
        if status not in EVENT_STATUSES:
            self._fail(EV, uid, "E1031", status)
        occurred = instant(ev.get("occurredAt") or ev.get("eventDate")) or old.get("occurred_at")
        scheduled = instant(ev.get("scheduledAt") or ev.get("dueDate"))
        if occurred is None and status not in UNDATED_STATUSES:
            self._fail(EV, uid, "E1031")
        if occurred is None and scheduled is None and status in ("SCHEDULE", "OVERDUE"):
            self._fail(EV, uid, "E1050")
        values = self._values(EV, uid, ev.get("dataValues"), attributes=False)
        if stage is None or program is None or ou is None or values is None:
            return None
        if enrollment is not None and not stage.repeatable:
            others = self.state.stage_events[(enrollment, stage.uid)] - {uid}
            if others:
                self._fail(EV, uid, "E1039", stage.uid)
            else:
                self.state.stage_events[(enrollment, stage.uid)].add(uid)
        for item in values:
            if item["dataElement"] not in stage.elements:
                self._fail(EV, uid, "E1305", item["dataElement"], stage.uid)
        if status == "COMPLETED":
            given = {v["dataElement"] for v in values if v["value"] is not None}
            for de, compulsory in stage.elements.items():
                if compulsory and de not in given:
                    self._fail(EV, uid, "E1303", de)
        return {
            "enrollment": enrollment,
            "te": te,
            "program": program.uid,
            "program_stage": stage.uid,
            "org_unit": ou,
            "status": status,
            "occurred_at": occurred,
            "scheduled_at": scheduled,
            "data_values": values,
        }

    def _event_enrollment(self, uid: str, ev: Obj, enrollment: str | None) -> str | None:
        """A tracker event needs an enrollment that exists and is still open."""
        planned = enrollment in self.planned_enrollments
        stored = self.state.enrollments.get(enrollment or "")
        if enrollment is None or (not planned and stored is None):
            self._fail(EV, uid, "E1033", uid, enrollment)
        elif stored is not None and not planned and stored["status"] != "ACTIVE":
            self._fail(EV, uid, "E1037", uid, enrollment, stored["status"])
        return (
            self.planned_enrollments.get(enrollment or "")
            or (stored or {}).get("te")
            or ref(ev.get("trackedEntity"))
        )
