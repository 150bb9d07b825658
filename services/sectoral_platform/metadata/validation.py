"""Validation of one imported metadata object: uid, strategy, required, unique, references."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from services.sectoral_platform.auth.passwords import hash_password
from services.sectoral_platform.dhis2.uid import is_valid_uid
from services.sectoral_platform.errors import bad_request
from services.sectoral_platform.metadata.schema import EMBEDDED, SCHEMAS
from services.sectoral_platform.metadata.schema_types import ENUMS, TypeSchema
from services.sectoral_platform.metadata.store import MetadataStore, Obj

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


def check_enums(payload: dict[str, list[Obj]]) -> None:
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
            if prop.kind == "collection" and prop.target is not None:
                data[prop.name] = _reference_list(obj[prop.name])
    if schema.plural == "dataSets":
        data["dataSetElements"] = [
            {k: v for k, v in item.items() if k != "dataSet"}
            for item in data.get("dataSetElements") or []
            if isinstance(item, dict)
        ]
    return data


def _reference_list(value: Any) -> list[Any]:
    """A reference collection as stored: a list of `{"id": ...}` (one object or bare uids are
    accepted); anything else is kept for the reference check to refuse."""
    items = value if isinstance(value, list) else [value]
    return [{"id": item} if isinstance(item, str) else item for item in items]


def _references(schema: TypeSchema, data: Obj) -> list[tuple[str, str, Any]]:
    """(property, target type, uid) for every reference the object makes."""
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


def validate_object(
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
            schema.plural,
            index,
            str(uid or ""),
            "ignore",
            [
                _error(
                    "E4014", f"Invalid UID `{uid}` for property `{schema.singular}`", schema, "id"
                )
            ],
        )
    assert isinstance(uid, str)
    present = exists(schema.plural, uid)
    if options.strategy == "DELETE":
        if not present:
            message = _no_match(uid, schema, obj)
            return ObjectOutcome(
                schema.plural, index, uid, "ignore", [_error("E5001", message, schema, "id", uid)]
            )
        blocker = store.referenced_by(uid)
        if blocker:
            message = (
                "Object could not be deleted because it is associated with another object: "
                + blocker
            )
            return ObjectOutcome(
                schema.plural, index, uid, "ignore", [_error("E4030", message, schema, None, uid)]
            )
        return ObjectOutcome(schema.plural, index, uid, "delete")
    if options.strategy == "CREATE" and present:
        message = (
            "Found matching object for given reference, but import mode is CREATE. "
            f"Identifier was {uid}, and object was {_describe(schema, obj)}."
        )
        return ObjectOutcome(
            schema.plural, index, uid, "ignore", [_error("E5000", message, schema, "id", uid)]
        )
    if options.strategy == "UPDATE" and not present:
        message = _no_match(uid, schema, obj)
        return ObjectOutcome(
            schema.plural, index, uid, "ignore", [_error("E5001", message, schema, "id", uid)]
        )
    data = _owner_data(schema, obj)
    data["id"] = uid
    errors: list[dict[str, Any]] = []
    raw_creds = obj.get("userCredentials")
    creds: dict[str, Any] = raw_creds if isinstance(raw_creds, dict) else {}
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
                    schema,
                    name,
                    uid,
                )
            )
    for prop_name, target, ref in _references(schema, data):
        if not isinstance(ref, str) or not referable(target, ref):
            errors.append(
                _error(
                    "E5002",
                    f"Invalid reference [{ref}] ({_short(SCHEMAS[target])}) on object "
                    f"{_describe(schema, data)} for association `{prop_name.split('.')[0]}`.",
                    schema,
                    prop_name.split(".")[0],
                    uid,
                )
            )
    if schema.check is not None:
        errors += [
            _error(code, message, schema, prop, uid)
            for code, message, prop in schema.check(data, referable)
        ]
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


def _no_match(uid: str, schema: TypeSchema, obj: Obj) -> str:
    return (
        "No matching object for given reference. "
        f"Identifier was {uid}, and object was {_describe(schema, obj)}."
    )


def _short(schema: TypeSchema) -> str:
    return schema.klass.rsplit(".", 1)[1]
