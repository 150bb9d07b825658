"""Property values of stored objects: stored, defaulted, computed and inverse properties."""

from __future__ import annotations

from typing import Any

from services.sectoral_platform.metadata.schema import EMBEDDED, SCHEMAS
from services.sectoral_platform.metadata.schema_types import Prop
from services.sectoral_platform.metadata.store import MetadataStore, Obj

MISSING = object()


class Viewer:
    """Reads any property of an object (or an embedded item) the way DHIS2 exposes it."""

    def __init__(self, store: MetadataStore, base_url: str = "") -> None:
        self.store = store
        self.base_url = base_url.rstrip("/")

    def prop_of(self, type_: str, name: str) -> Prop | None:
        schema = SCHEMAS.get(type_)
        if schema is not None:
            return schema.prop(name)
        embedded = EMBEDDED.get(type_)
        if embedded is None:
            return None
        if name in embedded:
            return Prop(name, "reference", embedded[name])
        return Prop(name)

    def known_props(self, type_: str) -> list[str]:
        schema = SCHEMAS.get(type_)
        if schema is not None:
            return [p.name for p in schema.props]
        return list(EMBEDDED.get(type_, {}))

    def target_type(self, type_: str, name: str) -> str | None:
        prop = self.prop_of(type_, name)
        if prop is None:
            return None
        if prop.kind == "computed" and name == "ancestors":
            return "organisationUnits"
        return prop.target

    def value(self, type_: str, obj: Obj, name: str) -> Any:
        """The property's value, or MISSING when the object has none (DHIS2 omits nulls)."""
        schema = SCHEMAS.get(type_)
        if schema is None:  # embedded item
            return obj.get(name, MISSING)
        prop = schema.prop(name)
        if prop is None:
            return MISSING
        if prop.kind == "inverse":
            return list(self.store.inverse(type_, name, obj["id"]))
        if prop.kind == "computed":
            return self._computed(type_, obj, name)
        value = obj.get(name)
        if value is None:
            if prop.default is not None:
                return prop.default
            if prop.kind in ("collection", "embedded"):
                return []
            return MISSING
        if prop.kind == "embedded" and name == "dataSetElements":
            return [{**item, "dataSet": {"id": obj["id"]}} for item in value]
        return value

    def _computed(self, type_: str, obj: Obj, name: str) -> Any:
        uid = obj["id"]
        if name == "displayName":
            if type_ == "users" and not obj.get("name"):
                return f"{obj.get('firstName', '')} {obj.get('surname', '')}".strip()
            return obj.get("name", MISSING)
        if name == "displayShortName":
            return obj.get("shortName") or obj.get("name", MISSING)
        if name == "displayDescription":
            return obj.get("description", MISSING)
        if name == "href":
            return f"{self.base_url}/api/{type_}/{uid}"
        if name in ("created", "lastUpdated", "createdBy", "lastUpdatedBy"):
            return obj.get(name, MISSING)
        if type_ == "organisationUnits":
            path = self.store.path(uid) or f"/{uid}"
            if name == "path":
                return path
            if name == "level":
                return path.count("/")
            if name == "leaf":
                return not self.store.inverse("organisationUnits", "children", uid)
            if name == "ancestors":
                return [{"id": part} for part in path.strip("/").split("/")[:-1]]
        if type_ == "users" and name == "authorities":
            found: set[str] = set()
            for ref in obj.get("userRoles") or []:
                role = self.store.get("userRoles", ref.get("id", ""))
                found.update((role or {}).get("authorities") or [])
            return sorted(found)
        if type_ == "dataElements" and name == "optionSetValue":
            return bool(obj.get("optionSet"))
        return MISSING

    def resolve(self, type_: str | None, ref: Any) -> tuple[str, Obj] | None:
        """The object a `{"id": ...}` reference points at, with its type."""
        if not isinstance(ref, dict) or not isinstance(ref.get("id"), str):
            return None
        uid = ref["id"]
        if type_ in SCHEMAS:
            found = self.store.get(type_, uid)
            return None if found is None else (type_, found)
        return None
