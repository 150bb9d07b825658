"""Render places as FHIR R4 mCSD `Location` and `Organization` resources and search Bundles."""

from __future__ import annotations

from typing import Any

from services.kernel.time import iso_micros_z
from services.registries.facilities.models import Place

CODE_SYSTEM = "https://dpi-sandbox.example/fhir/sid/facility-code"
MCSD_TYPES = "https://profiles.ihe.net/ITI/mCSD/CodeSystem/IHE.mCSD.Organization.Location.Types"
LEVEL_SYSTEM = "https://dpi-sandbox.example/fhir/CodeSystem/admin-level"
FACILITY_TYPE_SYSTEM = "https://dpi-sandbox.example/fhir/CodeSystem/facility-type"
PHYSICAL_TYPE = "http://terminology.hl7.org/CodeSystem/location-physical-type"
_PROFILE = "https://profiles.ihe.net/ITI/mCSD/StructureDefinition/IHE.mCSD."


def mcsd_kind(place: Place) -> str:
    return "facility" if place.level == "facility" else "jurisdiction"


def type_system(place: Place) -> str:
    return FACILITY_TYPE_SYSTEM if place.level == "facility" else LEVEL_SYSTEM


def _meta(place: Place, profile: str) -> dict[str, Any]:
    return {
        "versionId": str(place.version_id),
        "lastUpdated": iso_micros_z(place.last_updated),
        "profile": [_PROFILE + profile],
    }


def _types(place: Place) -> list[dict[str, Any]]:
    kind = mcsd_kind(place)
    return [
        {"coding": [{"system": MCSD_TYPES, "code": kind, "display": kind.title()}]},
        {"coding": [{"system": type_system(place), "code": place.type_code}]},
    ]


def _identifier(place: Place) -> list[dict[str, Any]]:
    return [{"use": "official", "system": CODE_SYSTEM, "value": place.id}]


def location(place: Place) -> dict[str, Any]:
    facility = place.level == "facility"
    resource: dict[str, Any] = {
        "resourceType": "Location",
        "id": place.id,
        "meta": _meta(place, "FacilityLocation" if facility else "JurisdictionLocation"),
        "identifier": _identifier(place),
        "status": place.status,
        "name": place.name,
        "mode": "instance",
        "type": _types(place),
        "physicalType": {
            "coding": [
                {"system": PHYSICAL_TYPE, "code": "bu", "display": "Building"}
                if facility
                else {"system": PHYSICAL_TYPE, "code": "jdn", "display": "Jurisdiction"}
            ]
        },
        "position": {"longitude": place.longitude, "latitude": place.latitude},
        "managingOrganization": {"reference": f"Organization/{place.id}"},
    }
    if place.parent_id:
        resource["partOf"] = {"reference": f"Location/{place.parent_id}"}
    return resource


def organization(place: Place) -> dict[str, Any]:
    facility = place.level == "facility"
    resource: dict[str, Any] = {
        "resourceType": "Organization",
        "id": place.id,
        "meta": _meta(place, "FacilityOrganization" if facility else "JurisdictionOrganization"),
        "identifier": _identifier(place),
        "active": place.status == "active",
        "type": _types(place),
        "name": place.name,
    }
    if place.parent_id:
        resource["partOf"] = {"reference": f"Organization/{place.parent_id}"}
    return resource


def render(resource_type: str, place: Place) -> dict[str, Any]:
    return location(place) if resource_type == "Location" else organization(place)


def bundle(
    *,
    matches: list[dict[str, Any]],
    included: list[dict[str, Any]],
    total: int,
    base: str,
    self_url: str,
    next_url: str | None,
) -> dict[str, Any]:
    links = [{"relation": "self", "url": self_url}]
    if next_url:
        links.append({"relation": "next", "url": next_url})
    entries = [(r, "match") for r in matches] + [(r, "include") for r in included]
    body: dict[str, Any] = {
        "resourceType": "Bundle",
        "type": "searchset",
        "total": total,
        "link": links,
    }
    if entries:
        body["entry"] = [
            {
                "fullUrl": f"{base}/{r['resourceType']}/{r['id']}",
                "resource": r,
                "search": {"mode": mode},
            }
            for r, mode in entries
        ]
    return body
