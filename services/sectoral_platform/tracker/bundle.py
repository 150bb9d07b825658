"""A tracker payload flattened into three lists, with generated UIDs and parent links."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from services.kernel.time import dhis2_timestamp
from services.sectoral_platform.dhis2.uid import generate_uid
from services.sectoral_platform.errors import bad_request

Obj = dict[str, Any]
STRATEGIES = ("CREATE_AND_UPDATE", "CREATE", "UPDATE", "DELETE")
ATOMIC_MODES = ("ALL", "OBJECT")
IMPORT_MODES = ("COMMIT", "VALIDATE")
REPORT_MODES = ("ERRORS", "WARNINGS", "FULL")


@dataclass
class ImportParams:
    strategy: str = "CREATE_AND_UPDATE"
    atomic_mode: str = "ALL"
    import_mode: str = "COMMIT"
    report_mode: str = "ERRORS"
    skip_rules: bool = False
    # who imports, and whether they may delete with children (F_TEI_CASCADE_DELETE,
    # F_ENROLLMENT_CASCADE_DELETE); internal imports may
    user: str = "system"
    cascade: tuple[bool, bool] = (True, True)

    @classmethod
    def parse(cls, raw: dict[str, str | None]) -> ImportParams:
        values = {
            "strategy": (raw.get("importStrategy") or "CREATE_AND_UPDATE").upper(),
            "atomic_mode": (raw.get("atomicMode") or "ALL").upper(),
            "import_mode": (raw.get("importMode") or "COMMIT").upper(),
            "report_mode": (raw.get("reportMode") or "ERRORS").upper(),
        }
        allowed = {
            "strategy": STRATEGIES,
            "atomic_mode": ATOMIC_MODES,
            "import_mode": IMPORT_MODES,
            "report_mode": REPORT_MODES,
        }
        for key, value in values.items():
            if value not in allowed[key]:
                raise bad_request(f"Value `{value}` is not valid, expected one of {allowed[key]}")
        skip = (raw.get("skipRuleEngine") or "false").lower()
        if skip not in ("true", "false"):
            raise bad_request(
                f"Value `{skip}` is not valid for `skipRuleEngine`, expected a boolean"
            )
        return cls(
            values["strategy"],
            values["atomic_mode"],
            values["import_mode"],
            values["report_mode"],
            skip_rules=skip == "true",
        )

    def as_query(self) -> dict[str, str]:
        return {
            "importStrategy": self.strategy,
            "atomicMode": self.atomic_mode,
            "importMode": self.import_mode,
            "reportMode": self.report_mode,
            "skipRuleEngine": "true" if self.skip_rules else "false",
        }


@dataclass
class Bundle:
    tracked_entities: list[Obj] = field(default_factory=list)
    enrollments: list[Obj] = field(default_factory=list)
    events: list[Obj] = field(default_factory=list)
    relationships: list[Obj] = field(default_factory=list)

    def by_kind(self) -> list[tuple[str, list[Obj]]]:
        return [
            ("TRACKED_ENTITY", self.tracked_entities),
            ("ENROLLMENT", self.enrollments),
            ("EVENT", self.events),
            ("RELATIONSHIP", self.relationships),
        ]

    @property
    def total(self) -> int:
        return (
            len(self.tracked_entities)
            + len(self.enrollments)
            + len(self.events)
            + len(self.relationships)
        )


def _list(body: Obj, key: str) -> list[Obj]:
    value = body.get(key)
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise bad_request(f"JSON parse error: `{key}` must be a list of objects")
    return value


def flatten(body: Any) -> Bundle:
    """Nested enrollments and events become flat objects pointing at their parents."""
    if not isinstance(body, dict):
        raise bad_request("JSON parse error: a tracker payload must be an object")
    bundle = Bundle(relationships=list(_list(body, "relationships")))
    for te in _list(body, "trackedEntities"):
        te = dict(te)
        te["trackedEntity"] = te.get("trackedEntity") or generate_uid()
        bundle.relationships += _list(te, "relationships")
        te.pop("relationships", None)
        bundle.tracked_entities.append(te)
        for enrollment in _list(te, "enrollments"):
            _add_enrollment(bundle, {**enrollment, "trackedEntity": te["trackedEntity"]})
        te.pop("enrollments", None)
    for enrollment in _list(body, "enrollments"):
        _add_enrollment(bundle, dict(enrollment))
    for event in _list(body, "events"):
        event = dict(event)
        event.setdefault("event", None)
        event["event"] = event["event"] or generate_uid()
        bundle.relationships += _list(event, "relationships")
        event.pop("relationships", None)
        bundle.events.append(event)
    bundle.relationships = [
        {**r, "relationship": r.get("relationship") or generate_uid()} for r in bundle.relationships
    ]
    return bundle


def _add_enrollment(bundle: Bundle, enrollment: Obj) -> None:
    enrollment["enrollment"] = enrollment.get("enrollment") or generate_uid()
    for event in _list(enrollment, "events"):
        event = {
            **event,
            "enrollment": enrollment["enrollment"],
            "program": event.get("program") or enrollment.get("program"),
            "trackedEntity": enrollment.get("trackedEntity"),
        }
        event["event"] = event.get("event") or generate_uid()
        bundle.relationships += _list(event, "relationships")
        event.pop("relationships", None)
        bundle.events.append(event)
    bundle.relationships += _list(enrollment, "relationships")
    enrollment.pop("relationships", None)
    enrollment.pop("events", None)
    bundle.enrollments.append(enrollment)


def ref(value: Any) -> str | None:
    """A reference given as a bare UID or as `{"id": ...}`."""
    if isinstance(value, dict):
        value = value.get("id")
    return value if isinstance(value, str) and value else None


_FORMATS = ("%Y-%m-%dT%H:%M:%S.%f", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M", "%Y-%m-%d")


def instant(value: Any) -> str | None:
    """An ISO date or date-time as DHIS2's zone-less timestamp; None if absent or invalid."""
    if not isinstance(value, str) or not value:
        return None
    return _instant(value)


@functools.lru_cache(maxsize=8192)
def _instant(value: str) -> str | None:
    """Cached: a batch repeats the same few dates thousands of times."""
    text = value.strip().removesuffix("Z")
    if len(text) > 6 and text[-6] in "+-" and text[-3] == ":":
        text = text[:-6]
    for fmt in _FORMATS:
        try:
            moment = datetime.strptime(text, fmt)
        except ValueError:
            continue
        return dhis2_timestamp(moment)
    return None
