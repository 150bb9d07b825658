"""Metadata import (`/api/metadata` and single-object writes): strategies, atomic modes,
VALIDATE, and DHIS2's ImportReport with per-object error reports."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from services.kernel.time import dhis2_timestamp
from services.sectoral_platform.auth.grants import grant_problems
from services.sectoral_platform.dhis2.uid import generate_uid
from services.sectoral_platform.errors import bad_request
from services.sectoral_platform.metadata.schema import SCHEMAS, import_order
from services.sectoral_platform.metadata.store import Change, MetadataStore, Obj
from services.sectoral_platform.metadata.validation import (
    ImportOptions,
    ObjectOutcome,
    check_enums,
    validate_object,
)
from services.sectoral_platform.metadata.validation import _error as error


@dataclass
class ImportResult:
    outcomes: list[ObjectOutcome]
    committed: bool
    options: ImportOptions

    @property
    def has_errors(self) -> bool:
        return any(o.errors for o in self.outcomes)

    def status(self) -> str:
        if not self.has_errors:
            return "OK"
        return "ERROR" if self.options.atomic == "ALL" or not self.committed_any else "WARNING"

    @property
    def committed_any(self) -> bool:
        return self.committed and any(not o.errors for o in self.outcomes)

    def stats(self, outcomes: list[ObjectOutcome] | None = None) -> dict[str, int]:
        outcomes = self.outcomes if outcomes is None else outcomes
        counts: Counter[str] = Counter()
        for o in outcomes:
            failed = bool(o.errors) or (self.options.atomic == "ALL" and self.has_errors)
            counts["ignored" if failed or o.action == "ignore" else o.action] += 1
        return {
            "created": counts["create"],
            "updated": counts["update"],
            "deleted": counts["delete"],
            "ignored": counts["ignored"],
            "total": len(outcomes),
        }

    def report(self) -> dict[str, Any]:
        type_reports = []
        for schema in import_order():
            mine = [o for o in self.outcomes if o.type == schema.plural]
            if not mine:
                continue
            type_reports.append(
                {
                    "klass": schema.klass,
                    "stats": self.stats(mine),
                    "objectReports": [
                        {
                            "klass": schema.klass,
                            "index": o.index,
                            "uid": o.uid,
                            "errorReports": o.errors,
                        }
                        for o in mine
                        if o.errors
                    ],
                }
            )
        return {
            "responseType": "ImportReport",
            "status": self.status(),
            "importParams": {
                "importStrategy": self.options.strategy,
                "atomicMode": self.options.atomic,
                "importMode": self.options.mode,
            },
            "stats": self.stats(),
            "typeReports": type_reports,
        }


def _sorted_units(objects: list[Obj]) -> list[tuple[int, Obj]]:
    """Org units parents first, so a payload can hold a whole hierarchy in any order."""
    indexed = list(enumerate(objects))
    by_id = {o.get("id"): o for _, o in indexed if o.get("id")}

    def depth(obj: Obj) -> int:
        seen: set[Any] = set()
        level = 0
        while True:
            parent = (
                (obj.get("parent") or {}).get("id") if isinstance(obj.get("parent"), dict) else None
            )
            if parent is None or parent not in by_id or parent in seen:
                return level
            seen.add(parent)
            obj = by_id[parent]
            level += 1

    return sorted(indexed, key=lambda pair: depth(pair[1]))


NOT_TYPES = frozenset({"system", "date"})


def unknown_types_report(payload: dict[str, Any], options: ImportOptions) -> dict[str, Any] | None:
    """A type the sandbox does not serve fails the whole import, naming it: nothing of the
    payload is imported, whatever `atomicMode` says (DHIS2 would have imported it)."""
    unknown = sorted(k for k in payload if k not in SCHEMAS and k not in NOT_TYPES)
    if not unknown:
        return None
    total = sum(len(v) for v in payload.values() if isinstance(v, list))
    report = ImportResult([], False, options).report()
    report["status"] = "ERROR"
    report["stats"] = {"created": 0, "updated": 0, "deleted": 0, "ignored": total, "total": total}
    report["typeReports"] = [
        {
            "klass": name,
            "stats": {"created": 0, "updated": 0, "deleted": 0, "ignored": 0, "total": 0},
            "objectReports": [
                {
                    "klass": name,
                    "index": 0,
                    "errorReports": [
                        {
                            "message": f"Metadata type `{name}` is not supported by this server",
                            "errorCode": "E6002",
                            "mainKlass": name,
                            "property": name,
                            "value": name,
                        }
                    ],
                }
            ],
        }
        for name in unknown
    ]
    return report


def run_import(
    store: MetadataStore, payload: dict[str, list[Obj]], options: ImportOptions
) -> ImportResult:
    """Validate every object, then commit (or not) according to atomicMode and importMode."""
    payload = {k: v for k, v in payload.items() if k in SCHEMAS and isinstance(v, list)}
    for plural, objects in payload.items():
        if not all(isinstance(o, dict) for o in objects):
            raise bad_request(f"JSON parse error: `{plural}` must be a list of objects")
    check_enums(payload)
    with store.writing():
        return _run(store, payload, options)


def _run(
    store: MetadataStore, payload: dict[str, list[Obj]], options: ImportOptions
) -> ImportResult:
    now = dhis2_timestamp()
    user_ref = {"id": options.user} if options.user else None
    # uids first, so objects may reference each other within one payload
    for objects in payload.values():
        for obj in objects:
            if options.strategy != "DELETE" and not obj.get("id"):
                obj["id"] = generate_uid()
    staged: dict[str, dict[str, Obj | None]] = {plural: {} for plural in SCHEMAS}
    outcomes: list[ObjectOutcome] = []

    incoming = {
        plural: {o.get("id") for o in objects} if options.strategy != "DELETE" else set()
        for plural, objects in payload.items()
    }

    def exists(type_: str, uid: str) -> bool:
        if uid in staged[type_]:
            return staged[type_][uid] is not None
        return store.get(type_, uid) is not None

    def referable(type_: str, uid: str) -> bool:
        return exists(type_, uid) or uid in incoming.get(type_, set())

    order = import_order()
    if options.strategy == "DELETE":
        order = list(reversed(order))
    for schema in order:
        objects = payload.get(schema.plural) or []
        pairs = (
            _sorted_units(objects)
            if schema.plural == "organisationUnits"
            else list(enumerate(objects))
        )
        uniques = {
            p.name: {
                o.get(p.name): uid
                for uid, o in store.objects[schema.plural].items()
                if o.get(p.name) is not None
            }
            for p in schema.props
            if p.unique
        }
        for index, obj in pairs:
            outcome = validate_object(
                store, schema, index, obj, options, exists, referable, uniques, staged
            )
            if not outcome.errors and outcome.action in ("create", "update", "delete"):
                outcome.errors = [
                    error(code, message, schema, prop, outcome.uid)
                    for code, message, prop in grant_problems(
                        store, actor=options.user, plural=schema.plural,
                        data=outcome.data, uid=outcome.uid)
                ]  # fmt: skip
            if not outcome.errors and outcome.action in ("create", "update"):
                assert outcome.data is not None
                previous = store.get(schema.plural, outcome.uid) or {}
                outcome.data["created"] = previous.get("created", now)
                outcome.data["lastUpdated"] = now
                if user_ref:
                    outcome.data["createdBy"] = previous.get("createdBy", user_ref)
                    outcome.data["lastUpdatedBy"] = user_ref
                if "passwordHash" in previous and "passwordHash" not in outcome.data:
                    outcome.data["passwordHash"] = previous["passwordHash"]
                staged[schema.plural][outcome.uid] = outcome.data
                for name, values in uniques.items():
                    if outcome.data.get(name) is not None:
                        values[outcome.data[name]] = outcome.uid
            elif not outcome.errors and outcome.action == "delete":
                staged[schema.plural][outcome.uid] = None
            outcomes.append(outcome)
    result = ImportResult(outcomes, committed=False, options=options)
    if options.mode == "VALIDATE" or (options.atomic == "ALL" and result.has_errors):
        return result
    changes = [
        Change(o.action, o.type, o.uid, o.data)
        for o in outcomes
        if not o.errors and o.action in ("create", "update", "delete")
    ]
    store.apply(changes)
    result.committed = True
    return result
