"""The civil register's built-in registries: births and deaths. No national ID field exists."""

from __future__ import annotations

from typing import Any

from services.registries.catalog.models import RegistryCreate

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


def builtin_registries() -> list[tuple[RegistryCreate, str]]:
    """Each built-in registry with the event its registrations publish."""
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
    return [(births, BIRTH_REGISTERED), (deaths, DEATH_REGISTERED)]
