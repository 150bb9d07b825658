"""Checks of one tracked entity: its type, org unit and (mandatory, unique) attributes."""

from __future__ import annotations

from services.sectoral_platform.tracker.bundle import ref
from services.sectoral_platform.tracker.checks import TE, Checks, Obj
from services.sectoral_platform.tracker.payload_fields import client_times


# ---- tracked entities ----
def tracked_entity(c: Checks, uid: str, te: Obj, old: Obj) -> Obj | None:
    tet = ref(te.get("trackedEntityType")) or old.get("tracked_entity_type")
    given_tet = ref(te.get("trackedEntityType"))
    if old and given_tet is not None and given_tet != old.get("tracked_entity_type"):
        c.fail(TE, uid, "E1126", "trackedEntityType")
    mandatory = c.meta.tet_mandatory(tet or "")
    if tet is None:
        c.fail(TE, uid, "E1121", "trackedEntityType")
    elif mandatory is None:
        c.fail(TE, uid, "E1005", tet)
    ou = ref(te.get("orgUnit")) or old.get("org_unit")
    c.org_unit(TE, uid, ou, "E1049", None)
    values = c.values(TE, uid, te.get("attributes"), attributes=True)
    geometry = c.geometry(
        TE, uid, te.get("geometry"), c.meta.feature_type("trackedEntityTypes", tet or "")
    )
    if values is None:
        return None
    given = {v["attribute"] for v in values if v["value"] is not None}
    given |= {a["attribute"] for a in old.get("attributes") or [] if a.get("value")}
    for attr in mandatory or []:
        if attr not in given:
            c.fail(TE, uid, "E1090", attr, tet, uid)
    c.unique(TE, uid, uid, values)
    if tet is None or ou is None:
        return None
    c.te_types[uid] = tet
    c.te_attrs[uid] = given
    return {
        "tracked_entity_type": tet,
        "org_unit": ou,
        "inactive": bool(te.get("inactive")),
        "potential_duplicate": te.get("potentialDuplicate") is True,
        "geometry": geometry,
        "attributes": values,
        **client_times(te),
    }
