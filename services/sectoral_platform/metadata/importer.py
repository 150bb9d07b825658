"""Metadata import (`/api/metadata` and single-object writes): strategies, atomic modes,
VALIDATE, and DHIS2's ImportReport with per-object error reports."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from services.sectoral_platform.auth.passwords import hash_password
from services.sectoral_platform.common.errors import bad_request
from services.sectoral_platform.common.uid import generate_uid, is_valid_uid
from services.sectoral_platform.common.web import timestamp
from services.sectoral_platform.metadata.schema import ENUMS, SCHEMAS, TypeSchema, import_order
from services.sectoral_platform.metadata.store import Change, MetadataStore, Obj

STRATEGIES = ("CREATE_AND_UPDATE", "CREATE", "UPDATE", "DELETE")
ATOMIC_MODES = ("ALL", "NONE")
IMPORT_MODES = ("COMMIT", "VALIDATE")


@dataclass
class ImportOptions:
    strategy: str = "CREATE_AND_UPDATE"
    atomic: str = "ALL"
    mode: str = "COMMIT"
    user: str | None = None

    def __post_init__(self) -> None:
        self.strategy = self.strategy.upper()
        self.atomic = self.atomic.upper()
        self.mode = self.mode.upper()
        for value, allowed, name in (
            (self.strategy, STRATEGIES, "importStrategy"),
            (self.atomic, ATOMIC_MODES, "atomicMode"),
            (self.mode, IMPORT_MODES, "importMode"),
        ):
            if value not in allowed:
                raise bad_request(f"Invalid {name} `{value}`; expected one of {', '.join(allowed)}")


@dataclass
class ObjectOutcome:
    type: str
    index: int
    uid: str
    action: str  # create, update, delete, ignore
    errors: list[dict[str, Any]] = field(default_factory=list)
    data: Obj | None = None


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


def _error(
    code: str, message: str, schema: TypeSchema, prop: str | None = None, uid: str | None = None
) -> dict[str, Any]:
    report: dict[str, Any] = {"message": message, "mainKlass": schema.klass, "errorCode": code}
    if prop:
        report["errorProperty"] = prop
        report["errorProperties"] = [prop]
    if uid:
        report["mainId"] = uid
    return report


def _describe(schema: TypeSchema, obj: Obj) -> str:
    label = obj.get("name") or obj.get("username") or obj.get("code") or ""
    return f"{schema.klass.rsplit('.', 1)[1]}{{id='{obj.get('id')}', name='{label}'}}"


def _check_enums(payload: dict[str, list[Obj]]) -> None:
    """Bad enum values fail the whole request (as Jackson does in DHIS2): a 400, nothing saved."""
    for plural, objects in payload.items():
        schema = SCHEMAS[plural]
        for obj in objects:
            for prop in schema.props:
                allowed = ENUMS.get(prop.name)
                value = obj.get(prop.name)
                if allowed and value is not None and value not in allowed:
                    raise bad_request(
                        f"JSON parse error: Cannot deserialize value `{value}` for property "
                        f"`{prop.name}` of {schema.singular}: not one of the values accepted "
                        f"({', '.join(allowed[:8])}...)"
                    )


def _owner_data(schema: TypeSchema, obj: Obj) -> Obj:
    data: Obj = {}
    creds = obj.get("userCredentials")
    if schema.plural == "users" and isinstance(creds, dict):
        obj = {**creds, **obj}
    for prop in schema.owner_props:
        if prop.name in obj and obj[prop.name] is not None:
            data[prop.name] = obj[prop.name]
    if schema.plural == "dataSets":
        data["dataSetElements"] = [
            {k: v for k, v in item.items() if k != "dataSet"}
            for item in data.get("dataSetElements") or []
            if isinstance(item, dict)
        ]
    return data


def _references(schema: TypeSchema, data: Obj) -> list[tuple[str, str, Any]]:
    """(property, target type, uid) for every reference the object makes."""
    from services.sectoral_platform.metadata.schema import EMBEDDED

    found: list[tuple[str, str, Any]] = []
    for prop in schema.owner_props:
        value = data.get(prop.name)
        if value is None or prop.target is None:
            continue
        if prop.kind == "reference":
            found.append(
                (prop.name, prop.target, value.get("id") if isinstance(value, dict) else value)
            )
        elif prop.kind == "collection":
            for ref in value if isinstance(value, list) else [value]:
                found.append(
                    (prop.name, prop.target, ref.get("id") if isinstance(ref, dict) else ref)
                )
        elif prop.kind == "embedded":
            for item in value if isinstance(value, list) else []:
                for key, target in EMBEDDED.get(prop.target, {}).items():
                    ref = item.get(key) if isinstance(item, dict) else None
                    if ref is not None and key != "dataSet":
                        found.append(
                            (
                                f"{prop.name}.{key}",
                                target,
                                ref.get("id") if isinstance(ref, dict) else ref,
                            )
                        )
    return found


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


def run_import(
    store: MetadataStore, payload: dict[str, list[Obj]], options: ImportOptions
) -> ImportResult:
    """Validate every object, then commit (or not) according to atomicMode and importMode."""
    payload = {k: v for k, v in payload.items() if k in SCHEMAS and isinstance(v, list)}
    for plural, objects in payload.items():
        if not all(isinstance(o, dict) for o in objects):
            raise bad_request(f"JSON parse error: `{plural}` must be a list of objects")
    _check_enums(payload)
    with store.lock:
        return _run(store, payload, options)


def _run(
    store: MetadataStore, payload: dict[str, list[Obj]], options: ImportOptions
) -> ImportResult:
    now = timestamp()
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
            outcome = _one(store, schema, index, obj, options, exists, referable, uniques, staged)
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


def _one(
    store: MetadataStore,
    schema: TypeSchema,
    index: int,
    obj: Obj,
    options: ImportOptions,
    exists: Any,
    referable: Any,
    uniques: dict[str, dict[Any, str]],
    staged: dict[str, dict[str, Obj | None]],
) -> ObjectOutcome:
    uid = obj.get("id")
    if not is_valid_uid(uid):
        return ObjectOutcome(
            schema.plural, index, str(uid or ""), "ignore",
            [_error("E4014", f"Invalid UID `{uid}` for property `{schema.singular}`", schema, "id")],
        )  # fmt: skip
    assert isinstance(uid, str)
    present = exists(schema.plural, uid)
    if options.strategy == "DELETE":
        if not present:
            message = f"No matching object for given reference. Identifier was {uid}, and object was {_describe(schema, obj)}."
            return ObjectOutcome(
                schema.plural, index, uid, "ignore", [_error("E5001", message, schema, "id", uid)]
            )
        blocker = store.referenced_by(uid)
        if blocker:
            message = f"Object could not be deleted because it is associated with another object: {blocker}"
            return ObjectOutcome(
                schema.plural, index, uid, "ignore", [_error("E4030", message, schema, None, uid)]
            )
        return ObjectOutcome(schema.plural, index, uid, "delete")
    if options.strategy == "CREATE" and present:
        message = f"Found matching object for given reference, but import mode is CREATE. Identifier was {uid}, and object was {_describe(schema, obj)}."
        return ObjectOutcome(
            schema.plural, index, uid, "ignore", [_error("E5000", message, schema, "id", uid)]
        )
    if options.strategy == "UPDATE" and not present:
        message = f"No matching object for given reference. Identifier was {uid}, and object was {_describe(schema, obj)}."
        return ObjectOutcome(
            schema.plural, index, uid, "ignore", [_error("E5001", message, schema, "id", uid)]
        )
    data = _owner_data(schema, obj)
    data["id"] = uid
    errors: list[dict[str, Any]] = []
    creds = obj.get("userCredentials") if isinstance(obj.get("userCredentials"), dict) else {}
    password = obj.get("password") or creds.get("password")
    if schema.plural == "users" and password:
        data["passwordHash"] = hash_password(str(password))
    for prop in schema.props:
        if prop.required and data.get(prop.name) in (None, "") and prop.default is None:
            errors.append(
                _error("E4000", f"Missing required property `{prop.name}`.", schema, prop.name, uid)
            )
    for name, values in uniques.items():
        value = data.get(name)
        owner = values.get(value) if value is not None else None
        if owner is not None and owner != uid and (staged[schema.plural].get(owner, 0) is not None):
            errors.append(
                _error(
                    "E5003",
                    f"Property `{name}` with value `{value}` on object {_describe(schema, data)} "
                    f"already exists on object {owner}.",
                    schema, name, uid,
                )
            )  # fmt: skip
    for prop_name, target, ref in _references(schema, data):
        if not isinstance(ref, str) or not referable(target, ref):
            errors.append(
                _error(
                    "E5002",
                    f"Invalid reference [{ref}] ({SCHEMAS[target].klass.rsplit('.', 1)[1]}) on object "
                    f"{_describe(schema, data)} for association `{prop_name.split('.')[0]}`.",
                    schema, prop_name.split(".")[0], uid,
                )
            )  # fmt: skip
    if schema.plural == "organisationUnits" and _cycle(store, staged, uid, data):
        errors.append(
            _error(
                "E1500",
                f"Organisation unit {uid} cannot be its own ancestor.",
                schema,
                "parent",
                uid,
            )
        )
    action = "update" if present else "create"
    return ObjectOutcome(schema.plural, index, uid, action, errors, data)


def _cycle(
    store: MetadataStore, staged: dict[str, dict[str, Obj | None]], uid: str, data: Obj
) -> bool:
    seen = {uid}
    parent = (data.get("parent") or {}).get("id")
    while parent:
        if parent in seen:
            return True
        seen.add(parent)
        unit = staged["organisationUnits"].get(parent) or store.get("organisationUnits", parent)
        parent = ((unit or {}).get("parent") or {}).get("id")
    return False
