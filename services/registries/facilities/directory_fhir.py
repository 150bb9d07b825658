"""Render directory entries as FHIR R4 mCSD resources."""

from __future__ import annotations

from typing import Any

from services.kernel.time import iso_micros_z
from services.registries.facilities.directory import ROLES, SERVICE_TYPES, DirectoryEntry

SERVICE_TYPE_SYSTEM = "https://dpi-sandbox.example/fhir/CodeSystem/service-type"
ROLE_SYSTEM = "http://terminology.hl7.org/CodeSystem/practitioner-role"
PRACTITIONER_SYSTEM = "https://dpi-sandbox.example/fhir/sid/practitioner"
CONNECTION = "http://terminology.hl7.org/CodeSystem/endpoint-connection-type"
PAYLOAD = "http://terminology.hl7.org/CodeSystem/endpoint-payload-type"
_PROFILE = "https://profiles.ihe.net/ITI/mCSD/StructureDefinition/IHE.mCSD."
ENDPOINT_HOST = "https://facilities.dpi-sandbox.example"


def _ref(kind: str, ident: str | None) -> dict[str, str]:
    return {"reference": f"{kind}/{ident}"}


def render(entry: DirectoryEntry) -> dict[str, Any]:
    kind = entry.resource_type
    resource: dict[str, Any] = {
        "resourceType": kind,
        "id": entry.id,
        "meta": {
            "versionId": str(entry.version_id),
            "lastUpdated": iso_micros_z(entry.last_updated),
            "profile": [_PROFILE + kind],
        },
    }
    resource.update(_BODIES[kind](entry))
    return resource


def _service(e: DirectoryEntry) -> dict[str, Any]:
    code = e.type_code or ""
    return {
        "active": e.active,
        "providedBy": _ref("Organization", e.organization_id),
        "type": [
            {
                "coding": [
                    {"system": SERVICE_TYPE_SYSTEM, "code": code, "display": SERVICE_TYPES[code]}
                ]
            }
        ],
        "location": [_ref("Location", e.location_id)],
        "name": e.name,
    }


def _practitioner(e: DirectoryEntry) -> dict[str, Any]:
    given, _, family = e.name.partition(" ")
    return {
        "identifier": [{"system": PRACTITIONER_SYSTEM, "value": e.id}],
        "active": e.active,
        "name": [{"use": "official", "text": e.name, "family": family, "given": [given]}],
    }


def _role(e: DirectoryEntry) -> dict[str, Any]:
    code = e.type_code or ""
    return {
        "active": e.active,
        "practitioner": _ref("Practitioner", e.practitioner_id),
        "organization": _ref("Organization", e.organization_id),
        "code": [{"coding": [{"system": ROLE_SYSTEM, "code": code, "display": ROLES[code]}]}],
        "location": [_ref("Location", e.location_id)],
        "healthcareService": [_ref("HealthcareService", e.service_id)],
    }


def _endpoint(e: DirectoryEntry) -> dict[str, Any]:
    return {
        "status": "active" if e.active else "off",
        "connectionType": {"system": CONNECTION, "code": "hl7-fhir-rest"},
        "name": e.name,
        "managingOrganization": _ref("Organization", e.organization_id),
        "payloadType": [{"coding": [{"system": PAYLOAD, "code": "any"}]}],
        "address": f"{ENDPOINT_HOST}/{e.organization_id}/fhir",
    }


def _affiliation(e: DirectoryEntry) -> dict[str, Any]:
    return {
        "active": e.active,
        "organization": _ref("Organization", e.organization_id),
        "participatingOrganization": _ref("Organization", e.participant_id),
        "location": [_ref("Location", e.location_id)],
    }


_BODIES = {
    "HealthcareService": _service,
    "Practitioner": _practitioner,
    "PractitionerRole": _role,
    "Endpoint": _endpoint,
    "OrganizationAffiliation": _affiliation,
}
