"""The per-object fields of a tracker import payload against DHIS2 2.42's import model.

DHIS2 maps the posted JSON (`webapi/controller/tracker/view`) onto its import model
(`tracker/imports/domain`) and writes that (`TrackerObjectsMapper`); a field the import model does
not carry is dropped there, whatever its value, and an unknown property is ignored by Jackson
(FAIL_ON_UNKNOWN_PROPERTIES=false). The sandbox drops the same fields (`IGNORED`, the read-only
or server-set ones) and refuses, naming it, a field DHIS2 keeps but the sandbox does not
(`unsupported`), instead of writing the object without it.
"""

from __future__ import annotations

from typing import Any

from services.sectoral_platform.tracker.bundle import instant, ref

Obj = dict[str, Any]
TE, EN, EV, RL = "TRACKED_ENTITY", "ENROLLMENT", "EVENT", "RELATIONSHIP"
DEFAULT_COMBO = "HllvX50cXC0"  # the default attribute option combo, as events render it
DEFAULT_OPTION = "xYerKDKCefk"  # its one category option

# Fields DHIS2's reads render (or older versions imported) that its 2.42 import model drops;
# ignored here as there. Keys: a tracker type, or the nested item kind.
IGNORED: dict[str, tuple[str, ...]] = {
    TE: ("createdAt", "updatedAt", "deleted", "storedBy", "createdBy", "updatedBy",
         "programOwners", "trackedEntityInstance"),
    EN: ("createdAt", "updatedAt", "deleted", "storedBy", "completedBy", "createdBy",
         "updatedBy", "enrollmentDate", "incidentDate"),
    EV: ("createdAt", "updatedAt", "deleted", "storedBy", "completedBy", "createdBy",
         "updatedBy", "followUp", "followup", "trackedEntity", "eventDate", "dueDate"),
    RL: ("relationshipName", "bidirectional", "createdAt", "updatedAt", "deleted"),
    "attribute": ("code", "displayName", "createdAt", "updatedAt", "storedBy", "valueType"),
    "dataValue": ("createdAt", "updatedAt", "storedBy", "createdBy", "updatedBy"),
}  # fmt: skip

# Client timestamps DHIS2 stores as given: an unparseable one is its JSON parse error (400)
CLIENT_TIMES: dict[str, tuple[str, ...]] = {
    TE: ("createdAtClient", "updatedAtClient"),
    EN: ("createdAtClient", "updatedAtClient", "completedAt"),
    EV: ("createdAtClient", "updatedAtClient", "completedAt"),
    RL: ("createdAtClient",),
}


def _given(value: Any) -> bool:
    """Present with a value: not null, false, an empty string, list or object."""
    return value not in (None, False, "", [], {})


def _non_default_combo(value: Any) -> bool:
    combo = ref(value)
    return combo is not None and combo != DEFAULT_COMBO


def _non_default_options(value: Any) -> bool:
    """`attributeCategoryOptions`: `"a;b"` (DHIS2's JSON form) or a list of uids or refs."""
    items = value.split(";") if isinstance(value, str) else value if isinstance(value, list) else []
    options = {ref(item) for item in items} - {None, ""}
    return bool(options - {DEFAULT_OPTION}) or (not options and _given(value))


def unsupported(kind: str, obj: Obj) -> list[str]:
    """The fields of `obj` DHIS2 would keep but the sandbox does not implement."""
    named: list[str] = []
    if kind == EV:
        if _non_default_combo(obj.get("attributeOptionCombo")):
            named.append("attributeOptionCombo")
        if _non_default_options(obj.get("attributeCategoryOptions")):
            named.append("attributeCategoryOptions")
    return named


def bad_times(kind: str, obj: Obj) -> list[str]:
    """Client timestamps given but not dates: DHIS2 cannot read the payload."""
    return [
        name
        for name in CLIENT_TIMES[kind]
        if _given(obj.get(name)) and instant(obj.get(name)) is None
    ]


def client_times(obj: Obj) -> Obj:
    """The client timestamps DHIS2 keeps as given (null when absent, on every write)."""
    return {
        "created_at_client": instant(obj.get("createdAtClient")),
        "updated_at_client": instant(obj.get("updatedAtClient")),
    }


# GeoJSON geometry type -> DHIS2 FeatureType (FeatureType.getTypeFromName)
FEATURE_TYPES = {"Point": "POINT", "Polygon": "POLYGON", "MultiPolygon": "MULTI_POLYGON"}


def _position(value: Any) -> bool:
    return (
        isinstance(value, list)
        and len(value) in (2, 3)
        and all(isinstance(x, int | float) and not isinstance(x, bool) for x in value)
    )


def _ring(value: Any) -> bool:
    return isinstance(value, list) and len(value) >= 4 and all(_position(p) for p in value)


def geojson_ok(value: Obj) -> bool:
    """A GeoJSON Point, Polygon or MultiPolygon with well-formed coordinates."""
    kind, coordinates = value.get("type"), value.get("coordinates")
    if kind == "Point":
        return _position(coordinates)
    if kind == "Polygon":
        return isinstance(coordinates, list) and bool(coordinates) and all(map(_ring, coordinates))
    if kind == "MultiPolygon":
        return (
            isinstance(coordinates, list)
            and bool(coordinates)
            and all(isinstance(p, list) and p and all(map(_ring, p)) for p in coordinates)
        )
    return False
