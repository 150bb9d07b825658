"""The tracker's view of metadata, cached per import: programs, stages, attributes, elements."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from services.sectoral_platform.metadata.store import MetadataStore

# The code that marks the attribute holding a person's sector token (PSUT) from the ID system.
NATIONAL_ID_TOKEN = "NATIONAL_ID_TOKEN"


@dataclass
class ValueInfo:
    uid: str
    name: str
    value_type: str
    unique: bool = False
    options: set[str] | None = None


@dataclass
class ProgramInfo:
    uid: str
    with_registration: bool
    tracked_entity_type: str | None
    org_units: set[str]
    mandatory: list[str]
    attributes: set[str]
    only_enroll_once: bool
    display_incident_date: bool
    future_enrollment: bool = False
    future_incident: bool = False


@dataclass
class StageInfo:
    uid: str
    program: str
    repeatable: bool
    elements: dict[str, bool]  # data element -> compulsory


@dataclass
class TrackerMeta:
    store: MetadataStore
    _cache: dict[tuple[str, str], Any] = field(default_factory=dict)

    def _cached(self, kind: str, uid: str, build: Any) -> Any:
        key = (kind, uid)
        if key not in self._cache:
            self._cache[key] = build(uid)
        return self._cache[key]

    def _options(self, obj: dict[str, Any]) -> set[str] | None:
        option_set = self.store.get("optionSets", (obj.get("optionSet") or {}).get("id", ""))
        if option_set is None:
            return None
        codes = set()
        for ref in option_set.get("options") or []:
            option = self.store.get("options", ref.get("id", "")) or {}
            codes.add(option.get("code") or "")
        return codes

    def attribute(self, uid: str) -> ValueInfo | None:
        def build(key: str) -> ValueInfo | None:
            obj = self.store.get("trackedEntityAttributes", key)
            if obj is None:
                return None
            return ValueInfo(
                key,
                obj.get("name", ""),
                obj.get("valueType", "TEXT"),
                bool(obj.get("unique")),
                self._options(obj),
            )

        result: ValueInfo | None = self._cached("tea", uid, build)
        return result

    def element(self, uid: str) -> ValueInfo | None:
        def build(key: str) -> ValueInfo | None:
            obj = self.store.get("dataElements", key)
            if obj is None:
                return None
            return ValueInfo(
                key, obj.get("name", ""), obj.get("valueType", "TEXT"), False, self._options(obj)
            )

        result: ValueInfo | None = self._cached("de", uid, build)
        return result

    def tet_mandatory(self, uid: str) -> list[str] | None:
        def build(key: str) -> list[str] | None:
            obj = self.store.get("trackedEntityTypes", key)
            if obj is None:
                return None
            return [
                str((item.get("trackedEntityAttribute") or {}).get("id"))
                for item in obj.get("trackedEntityTypeAttributes") or []
                if item.get("mandatory")
            ]

        result: list[str] | None = self._cached("tet", uid, build)
        return result

    def program(self, uid: str) -> ProgramInfo | None:
        def build(key: str) -> ProgramInfo | None:
            obj = self.store.get("programs", key)
            if obj is None:
                return None
            items = obj.get("programTrackedEntityAttributes") or []
            attribute_ids = [str((i.get("trackedEntityAttribute") or {}).get("id")) for i in items]
            return ProgramInfo(
                key,
                obj.get("programType") == "WITH_REGISTRATION",
                (obj.get("trackedEntityType") or {}).get("id"),
                {str(r.get("id")) for r in obj.get("organisationUnits") or []},
                [a for a, i in zip(attribute_ids, items, strict=True) if i.get("mandatory")],
                set(attribute_ids),
                bool(obj.get("onlyEnrollOnce")),
                bool(obj.get("displayIncidentDate")),
                bool(obj.get("selectEnrollmentDatesInFuture")),
                bool(obj.get("selectIncidentDatesInFuture")),
            )

        result: ProgramInfo | None = self._cached("program", uid, build)
        return result

    def stage(self, uid: str) -> StageInfo | None:
        def build(key: str) -> StageInfo | None:
            obj = self.store.get("programStages", key)
            if obj is None:
                return None
            return StageInfo(
                key,
                str((obj.get("program") or {}).get("id")),
                bool(obj.get("repeatable")),
                {
                    str((i.get("dataElement") or {}).get("id")): bool(i.get("compulsory"))
                    for i in obj.get("programStageDataElements") or []
                },
            )

        result: StageInfo | None = self._cached("stage", uid, build)
        return result

    def feature_type(self, collection: str, uid: str) -> str:
        """The `featureType` of a tracked entity type, program or program stage (NONE unset)."""
        return str((self.store.get(collection, uid) or {}).get("featureType") or "NONE")

    def user(self, ref: dict[str, Any]) -> dict[str, Any] | None:
        """A user by `username`, else by `uid` (DHIS2's assigned user lookup)."""
        username = ref.get("username")
        if username:
            return next((u for u in self.store.all("users") if u.get("username") == username), None)
        return self.store.get("users", str(ref.get("uid") or ""))

    def org_unit_exists(self, uid: str) -> bool:
        exists: bool = self._cached(
            "ou", uid, lambda key: self.store.get("organisationUnits", key) is not None
        )
        return exists

    def path(self, uid: str) -> str:
        found: str = self._cached("path", uid, lambda key: self.store.path(key) or f"/{key}")
        return found
