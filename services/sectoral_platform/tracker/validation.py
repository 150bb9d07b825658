"""Tracker validation with DHIS2's error codes; decides create, update or delete per object.

The checks are per kind: `entity_checks.py`, `enrollment_checks.py`, `event_checks.py`, over the
shared `checks.py`."""

from __future__ import annotations

from collections.abc import Callable

from services.sectoral_platform.tracker import (
    enrollment_checks,
    entity_checks,
    event_checks,
    payload_fields,
)
from services.sectoral_platform.tracker.bundle import Bundle
from services.sectoral_platform.tracker.checks import EN, EV, TE, Checks, Obj, Outcome, Planned
from services.sectoral_platform.tracker.rules import apply_rules

Check = Callable[[Checks, str, Obj, Obj], Obj | None]


class Validator(Checks):
    def run(self, bundle: Bundle) -> Outcome:
        for te in bundle.tracked_entities:
            self._checked(TE, te, "trackedEntity", entity_checks.tracked_entity)
        for enrollment in bundle.enrollments:
            self._checked(EN, enrollment, "enrollment", enrollment_checks.enrollment)
        for event in bundle.events:
            self._checked(EV, event, "event", event_checks.event)
        return self.out

    def _checked(self, kind: str, obj: Obj, key: str, check: Check) -> None:
        uid = str(obj[key])
        existing = {
            TE: self.state.tracked_entities,
            EN: self.state.enrollments,
            EV: self.state.events,
        }[kind].get(uid)
        action = self.action(kind, uid, existing is not None)
        if action in ("update", "delete") and not self.owned(kind, uid, existing or {}):
            return
        if action == "delete":
            if self._cascade_refused(kind, uid):
                return
            self.out.planned[kind].append(Planned(kind, uid, action, {}))
        elif action is not None and not self._refused(kind, uid, obj):
            before = len(self.out.errors)
            planned = check(self, uid, obj, existing or {})
            ruled = kind in (EN, EV) and not self.params.skip_rules
            if planned is not None and len(self.out.errors) == before and ruled:
                apply_rules(self, kind, uid, planned)
            if planned is not None and len(self.out.errors) == before:
                self.out.planned[kind].append(Planned(kind, uid, action, planned))

    def _refused(self, kind: str, uid: str, obj: Obj) -> bool:
        """A field DHIS2 keeps but the sandbox does not fails the object, named (E2038)."""
        named = payload_fields.unsupported(kind, obj)
        for name in named:
            self.fail(kind, uid, "E2038", name)
        return bool(named)

    def _cascade_refused(self, kind: str, uid: str) -> bool:
        """DHIS2 deletes children only for a user with the cascade authority (E1100, E1103)."""
        allowed = dict(zip((TE, EN), self.params.cascade, strict=True))
        if kind not in allowed or allowed[kind] or not self.state.has_children(kind, uid):
            return False
        self.fail(kind, uid, "E1100" if kind == TE else "E1103", self.params.user, uid)
        return True
