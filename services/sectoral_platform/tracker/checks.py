"""What every tracker object is checked for (DHIS2's error codes): its action, ownership, org
unit, values and unique attributes; the outcome the per-kind checks add to."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from services.sectoral_platform.aggregate.values import check_value
from services.sectoral_platform.auth.scope import in_hierarchy
from services.sectoral_platform.dhis2.uid import is_valid_uid
from services.sectoral_platform.tracker.bundle import Bundle, ImportParams, ref
from services.sectoral_platform.tracker.codes import report
from services.sectoral_platform.tracker.meta import TrackerMeta, ValueInfo
from services.sectoral_platform.tracker.payload_fields import FEATURE_TYPES, geojson_ok
from services.sectoral_platform.tracker.state import ExistingState

Obj = dict[str, Any]
TE, EN, EV, RL = "TRACKED_ENTITY", "ENROLLMENT", "EVENT", "RELATIONSHIP"
LABELS = {TE: "TrackedEntity", EN: "Enrollment", EV: "Event"}
MISSING = {TE: "E1121", EN: "E1122", EV: "E1123"}
EXISTS_CODES = {TE: ("E1002", "E1063"), EN: ("E1080", "E1081"), EV: ("E1030", "E1032")}


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
    planned: dict[str, list[Planned]] = field(
        default_factory=lambda: {TE: [], EN: [], EV: [], RL: []}
    )
    failed: dict[str, set[str]] = field(
        default_factory=lambda: {TE: set(), EN: set(), EV: set(), RL: set()}
    )


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


class Checks:
    """The state one validation run shares across tracked entities, enrollments and events."""

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
        self.enrollment_objs: dict[str, Obj] = {}  # planned enrollment -> program and dates

    def owned(self, kind: str, uid: str, existing: Obj) -> bool:
        """Updating or deleting a stored object needs its stored org unit in the capture scope,
        whatever org unit the payload names."""
        if self.capture is None or in_hierarchy(existing.get("ou_path"), self.capture):
            return True
        self.fail(kind, uid, "E1000", existing.get("org_unit"))
        return False

    def action(self, kind: str, uid: str, exists: bool) -> str | None:
        strategy = self.params.strategy
        if not is_valid_uid(uid):
            self.fail(kind, uid, "E1048", LABELS[kind], uid)
        elif strategy == "CREATE" and exists:
            self.fail(kind, uid, EXISTS_CODES[kind][0], uid)
        elif strategy in ("UPDATE", "DELETE") and not exists:
            self.fail(kind, uid, EXISTS_CODES[kind][1], uid)
        elif strategy == "DELETE":
            return "delete"
        else:
            return "update" if exists else "create"
        return None

    def fail(self, kind: str, uid: str, code: str, *args: object) -> None:
        self.out.errors.append(report(code, kind, uid, *args))
        self.out.failed[kind].add(uid)

    def org_unit(self, kind: str, uid: str, ou: str | None, code: str, program: Any) -> bool:
        """Given (E1121-E1123), exists (`code`), assigned to the program (E1041/E1029), inside
        the capture scope."""
        if not ou:
            self.fail(kind, uid, MISSING[kind], "orgUnit")
            return False
        if not self.meta.org_unit_exists(ou):
            self.fail(kind, uid, code, ou)
            return False
        if program is not None and ou not in program.org_units:
            self.fail(kind, uid, "E1041" if kind == EN else "E1029", ou, program.uid)
            return False
        if self.capture is not None and not in_hierarchy(self.meta.path(ou), self.capture):
            self.fail(kind, uid, "E1000", ou)
            return False
        return True

    def geometry(self, kind: str, uid: str, value: Any, feature_type: str) -> Obj | None:
        """GeoJSON of the owner's `featureType` (E1012: none declared, or another type); None
        when absent or refused."""
        if value is None:
            return None
        if not isinstance(value, dict) or not geojson_ok(value):
            self.fail(kind, uid, "E1012", feature_type)
            return None
        if feature_type == "NONE" or FEATURE_TYPES.get(str(value["type"])) != feature_type:
            self.fail(kind, uid, "E1012", feature_type)
            return None
        return {"type": value["type"], "coordinates": value["coordinates"]}

    def values(self, kind: str, uid: str, items: Any, attributes: bool) -> list[Obj] | None:
        """Attribute or data values, checked against their value types and option sets."""
        clean: list[Obj] = []
        ok = True
        key_name = "attribute" if attributes else "dataElement"
        for item in items if isinstance(items, list) else []:
            key = ref(item.get(key_name)) if isinstance(item, dict) else None
            info = (self.meta.attribute if attributes else self.meta.element)(key or "")
            if info is None:
                self.fail(kind, uid, "E1006" if attributes else "E1304", key)
                ok = False
                continue
            value = _text(item.get("value"))
            if value is not None and not self.value_ok(kind, uid, info, value, attributes):
                ok = False
                continue
            entry: Obj = {key_name: info.uid, "value": value}
            if not attributes and item.get("providedElsewhere") is True:
                entry["providedElsewhere"] = True
            clean.append(entry)
        return clean if ok else None

    def value_ok(self, kind: str, uid: str, info: ValueInfo, value: str, attr: bool) -> bool:
        reason = check_value(value, info.value_type)
        if reason is not None:
            if attr:
                self.fail(kind, uid, "E1085", info.uid, info.value_type)
            else:
                self.fail(kind, uid, "E1302", value, info.uid, reason)
            return False
        if info.options is not None and value not in info.options:
            self.fail(kind, uid, "E1125", value, info.uid, info.name)
            return False
        return True

    def unique(self, kind: str, uid: str, owner: str, values: list[Obj]) -> None:
        for item in values:
            info = self.meta.attribute(item["attribute"])
            if info is None or not info.unique or item["value"] is None:
                continue
            key = (info.uid, item["value"])
            holder = self.claimed.get(key) or self.state.unique_owner.get(key)
            if holder is not None and holder != owner:
                self.fail(kind, uid, "E1064", item["value"], info.uid)
            else:
                self.claimed[key] = owner
