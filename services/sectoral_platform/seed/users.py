"""Two scoped users next to `admin`: a district officer and a facility data entry clerk."""

from __future__ import annotations

from typing import Any

ENTRY_AUTHORITIES = ["F_DATAVALUE_ADD", "F_DATAVALUE_DELETE", "F_TRACKED_ENTITY_INSTANCE_ADD"]
OFFICER_ROLE = "DistOffRole"
CLERK_ROLE = "FacEntryRol"
OFFICER_UID = "DistOfficer"
CLERK_UID = "FacilityClk"


def scoped_users(
    units: list[dict[str, Any]], *, officer_password: str, clerk_password: str
) -> dict[str, list[dict[str, Any]]]:
    """The first district and its first facility of the generated hierarchy (none: no users)."""
    districts = sorted(u["code"] for u in units if u["code"].count("-") == 2)
    if not districts:
        return {}
    district = next(u for u in units if u["code"] == districts[0])
    facilities = sorted(u["code"] for u in units if u["code"].startswith(districts[0] + "-"))
    if not facilities:
        return {}
    facility = next(u for u in units if u["code"] == facilities[0])
    here = [{"id": district["id"]}]
    return {
        "userRoles": [
            {"id": OFFICER_ROLE, "name": "District officer", "authorities": ENTRY_AUTHORITIES},
            {"id": CLERK_ROLE, "name": "Facility data entry", "authorities": ENTRY_AUTHORITIES},
        ],
        "users": [
            {
                "id": OFFICER_UID,
                "username": "district_officer",
                "firstName": "Dana",
                "surname": "Officer",
                "password": officer_password,
                "userRoles": [{"id": OFFICER_ROLE}],
                "organisationUnits": here,
                "dataViewOrganisationUnits": here,
                "teiSearchOrganisationUnits": here,
            },
            {
                "id": CLERK_UID,
                "username": "facility_clerk",
                "firstName": "Femi",
                "surname": "Clerk",
                "password": clerk_password,
                "userRoles": [{"id": CLERK_ROLE}],
                "organisationUnits": [{"id": facility["id"]}],
            },
        ],
    }
