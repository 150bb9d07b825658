"""The civil register's built-in registries: births and deaths. No national ID field exists."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from services.registries.catalog.models import RegistryCreate

FACILITY_VIEW = "facility"

BIRTH_REGISTERED = "birth-registered"
DEATH_REGISTERED = "death-registered"

_NAME = {"type": "string", "minLength": 1, "maxLength": 100}
_SEX = {"type": "string", "enum": ["female", "male", "other", "unknown"]}
_DATE = {"type": "string", "format": "date"}

_PARENT: dict[str, Any] = {
    "type": "object",
    "description": "A parent, by name and (when known) their own birth registration",
    "properties": {
        "givenName": _NAME,
        "familyName": _NAME,
        "birthRegistrationId": {
            "type": "string",
            "personalId": True,
            "description": "The parent's own birth registration number, if registered",
        },
    },
    "required": ["givenName", "familyName"],
    "additionalProperties": False,
}

BIRTHS_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "description": "A birth registration",
    "properties": {
        "id": {
            "type": "string",
            "primaryKey": True,
            "readOnly": True,
            "personalId": True,
            "description": "Birth registration number (civilRegistrationId)",
        },
        "child": {
            "type": "object",
            "properties": {
                "givenName": _NAME,
                "familyName": _NAME,
                "sex": _SEX,
                "dateOfBirth": _DATE,
                "placeOfBirth": {
                    "type": "string",
                    "facilityCode": True,
                    "description": "Facility code from the master facility list",
                },
            },
            "required": ["givenName", "familyName", "sex", "dateOfBirth", "placeOfBirth"],
            "additionalProperties": False,
        },
        "mother": {"$ref": "#/$defs/parent"},
        "father": {"$ref": "#/$defs/parent"},
        "registrationDate": _DATE,
    },
    "required": ["child", "mother"],
    "additionalProperties": False,
    "$defs": {"parent": _PARENT},
}

DEATHS_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "description": "A death registration",
    "properties": {
        "id": {
            "type": "string",
            "primaryKey": True,
            "readOnly": True,
            "description": "Death registration number",
        },
        "birthRegistrationId": {
            "type": "string",
            "personalId": True,
            "references": "births/1.0",
            "description": "The deceased's birth registration number",
        },
        "deceased": {
            "type": "object",
            "properties": {
                "givenName": _NAME,
                "familyName": _NAME,
                "sex": _SEX,
                "dateOfBirth": _DATE,
            },
            "required": ["givenName", "familyName"],
            "additionalProperties": False,
        },
        "dateOfDeath": _DATE,
        "placeOfDeath": {"type": "string", "maxLength": 200},
        "registrationDate": _DATE,
    },
    "required": ["deceased", "dateOfDeath"],
    "additionalProperties": False,
}


FACILITIES_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "description": "A place of the master facility list (read-only view; FHIR mCSD at /fhir)",
    "properties": {
        "id": {"type": "string", "primaryKey": True, "description": "Stable code"},
        "name": {"type": "string"},
        "level": {"type": "string", "enum": ["country", "region", "district", "facility"]},
        "type": {"type": "string"},
        "partOf": {"type": ["string", "null"], "description": "Code of the parent place"},
        "latitude": {"type": "number"},
        "longitude": {"type": "number"},
        "status": {"type": "string", "enum": ["active", "inactive", "suspended"]},
        "lastUpdated": {"type": "string", "format": "date-time"},
    },
}


@dataclass(frozen=True, slots=True)
class Builtin:
    body: RegistryCreate
    event_on_create: str | None = None
    view: str | None = None


def builtin_registries() -> list[Builtin]:
    """The civil register (publishing an event per registration) and the facility list view."""
    common = {"group_name": "Civil registration", "catalog_name": "CRVS", "version": "1.0"}
    births = RegistryCreate.model_validate(
        {
            **common,
            "code": "BR",
            "name": "births",
            "description": "Civil register: births",
            "institution": "Civil Registration and Vital Statistics",
            "schema": BIRTHS_SCHEMA,
        }
    )
    deaths = RegistryCreate.model_validate(
        {
            **common,
            "code": "DR",
            "name": "deaths",
            "description": "Civil register: deaths",
            "institution": "Civil Registration and Vital Statistics",
            "fields_uniques": [["birthRegistrationId"]],
            "schema": DEATHS_SCHEMA,
        }
    )
    facilities = RegistryCreate.model_validate(
        {
            "group_name": "Master facility list",
            "catalog_name": "MFL",
            "version": "1.0",
            "code": "MFL",
            "name": "facilities",
            "description": "Administrative hierarchy and health facilities (read-only)",
            "institution": "Ministry of Health",
            "schema": FACILITIES_SCHEMA,
        }
    )
    return [
        Builtin(births, event_on_create=BIRTH_REGISTERED),
        Builtin(deaths, event_on_create=DEATH_REGISTERED),
        Builtin(facilities, view=FACILITY_VIEW),
    ]
