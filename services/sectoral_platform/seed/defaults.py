"""What every DHIS2 instance has: the `default` category model, the superuser role, `admin`."""

from __future__ import annotations

from typing import Any

from services.sectoral_platform.metadata.schema import (
    DEFAULT_CATEGORY,
    DEFAULT_CATEGORY_COMBO,
    DEFAULT_CATEGORY_OPTION,
    DEFAULT_CATEGORY_OPTION_COMBO,
)

SUPERUSER_ROLE = "yrB6vc5Ip3r"
ADMIN_UID = "M5zQapPyTZI"
INDICATOR_TYPE_NUMBER = "kHy61PbChXr"
INDICATOR_TYPE_PERCENT = "bWuNrMHEoZ0"


def default_metadata(admin_password: str, root_units: list[str]) -> dict[str, list[dict[str, Any]]]:
    opt = {"id": DEFAULT_CATEGORY_OPTION}
    return {
        "categoryOptions": [
            {
                "id": DEFAULT_CATEGORY_OPTION,
                "name": "default",
                "code": "default",
                "shortName": "default",
            }
        ],
        "categories": [
            {
                "id": DEFAULT_CATEGORY,
                "name": "default",
                "code": "default",
                "shortName": "default",
                "dataDimensionType": "DISAGGREGATION",
                "categoryOptions": [opt],
            }
        ],
        "categoryCombos": [
            {
                "id": DEFAULT_CATEGORY_COMBO,
                "name": "default",
                "code": "default",
                "dataDimensionType": "DISAGGREGATION",
                "categories": [{"id": DEFAULT_CATEGORY}],
            }
        ],
        "categoryOptionCombos": [
            {
                "id": DEFAULT_CATEGORY_OPTION_COMBO,
                "name": "default",
                "code": "default",
                "categoryCombo": {"id": DEFAULT_CATEGORY_COMBO},
                "categoryOptions": [opt],
            }
        ],
        "indicatorTypes": [
            {"id": INDICATOR_TYPE_NUMBER, "name": "Number (Factor 1)", "factor": 1, "number": True},
            {"id": INDICATOR_TYPE_PERCENT, "name": "Per cent", "factor": 100},
        ],
        "userRoles": [{"id": SUPERUSER_ROLE, "name": "Superuser", "authorities": ["ALL"]}],
        "users": [
            {
                "id": ADMIN_UID,
                "username": "admin",
                "firstName": "John",
                "surname": "Traore",
                "password": admin_password,
                "userRoles": [{"id": SUPERUSER_ROLE}],
                "organisationUnits": [{"id": u} for u in root_units],
                "dataViewOrganisationUnits": [{"id": u} for u in root_units],
                "teiSearchOrganisationUnits": [{"id": u} for u in root_units],
            }
        ],
    }
