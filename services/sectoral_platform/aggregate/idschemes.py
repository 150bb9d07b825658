"""DHIS2 identifier schemes (UID | CODE | NAME | ATTRIBUTE:<uid>) for data value exchange."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from services.sectoral_platform.errors import conflict
from services.sectoral_platform.metadata.store import MetadataStore, Obj

# the wire property, the metadata type behind it, the specific scheme parameter
PROPERTIES = (
    ("dataElement", "dataElements", "dataElementIdScheme"),
    ("orgUnit", "organisationUnits", "orgUnitIdScheme"),
    ("categoryOptionCombo", "categoryOptionCombos", "categoryOptionComboIdScheme"),
    ("attributeOptionCombo", "categoryOptionCombos", "attributeOptionComboIdScheme"),
    ("dataSet", "dataSets", "dataSetIdScheme"),
)
SCHEME_PARAMS = frozenset({"idScheme", *(p for _, _, p in PROPERTIES)})


def parse_scheme(raw: str, name: str, where: str = "") -> str:
    """`UID`, `CODE`, `NAME` or `ATTRIBUTE:<uid>`; anything else is a 409 naming `name`."""
    upper = raw.upper()
    if upper in ("UID", "ID", "CODE", "NAME"):
        return "UID" if upper == "ID" else upper
    if upper.startswith("ATTRIBUTE:") and len(raw) > len("ATTRIBUTE:"):
        return "ATTRIBUTE:" + raw.split(":", 1)[1]
    raise conflict(f"Invalid `{name}`{where}: `{raw}` (UID, CODE, NAME or ATTRIBUTE:<uid>)")


def _external(obj: Obj, scheme: str) -> str | None:
    if scheme == "UID":
        return str(obj.get("id"))
    if scheme == "CODE":
        return obj.get("code")
    if scheme == "NAME":
        return obj.get("name")
    wanted = scheme.split(":", 1)[1]
    for item in obj.get("attributeValues") or []:
        if (item.get("attribute") or {}).get("id") == wanted:
            return str(item.get("value"))
    return None


@dataclass
class IdSchemes:
    """The scheme of each wire property, and both-way lookups built once per request."""

    store: MetadataStore
    schemes: dict[str, str]
    _to_uid: dict[str, dict[str, str]] = field(default_factory=dict)
    _from_uid: dict[str, dict[str, str]] = field(default_factory=dict)

    @classmethod
    def parse(
        cls, store: MetadataStore, params: Mapping[str, str], default: str = "UID"
    ) -> IdSchemes:
        raw = params.get("idScheme")
        general = parse_scheme(raw, "idScheme") if raw else default
        schemes = {
            prop: parse_scheme(params[name], name) if params.get(name) else general
            for prop, _, name in PROPERTIES
        }
        return cls(store, schemes)

    @property
    def all_uid(self) -> bool:
        return all(s == "UID" for s in self.schemes.values())

    def _maps(self, prop: str) -> tuple[dict[str, str], dict[str, str]]:
        scheme = self.schemes[prop]
        type_ = next(t for p, t, _ in PROPERTIES if p == prop)
        key = f"{type_}|{scheme}"
        if key not in self._to_uid:
            to_uid: dict[str, str] = {}
            from_uid: dict[str, str] = {}
            for obj in self.store.all(type_):
                ext = _external(obj, scheme)
                if ext is not None:
                    to_uid.setdefault(ext, str(obj["id"]))
                    from_uid[str(obj["id"])] = ext
            self._to_uid[key], self._from_uid[key] = to_uid, from_uid
        return self._to_uid[key], self._from_uid[key]

    def to_uid(self, prop: str, value: str) -> str:
        """Unresolved identifiers stay as sent, so the import reports them as unknown."""
        if self.schemes[prop] == "UID" or not value:
            return value
        return self._maps(prop)[0].get(value, value)

    def from_uid(self, prop: str, uid: str) -> str:
        if self.schemes[prop] == "UID" or not uid:
            return uid
        return self._maps(prop)[1].get(uid, uid)

    def inbound(self, row: dict[str, object]) -> dict[str, object]:
        for prop, _, _ in PROPERTIES:
            value = row.get(prop)
            if isinstance(value, str):
                row[prop] = self.to_uid(prop, value)
        return row

    def outbound(self, row: dict[str, object]) -> dict[str, object]:
        for prop, _, _ in PROPERTIES:
            value = row.get(prop)
            if isinstance(value, str):
                row[prop] = self.from_uid(prop, value)
        return row
