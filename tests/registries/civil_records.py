"""Civil records as the CRVS writes them, for the registries' tests and the security tests."""

from __future__ import annotations

from typing import Any


def birth(given: str = "Amani", **child: Any) -> dict[str, Any]:
    """A birth record; `child` overrides the child's fields."""
    return {
        "child": {
            "givenName": given,
            "familyName": "Okello",
            "sex": "female",
            "dateOfBirth": "2026-01-02",
            "placeOfBirth": "XD-R01-D01-F001",
            **child,
        },
        "mother": {"givenName": "Zawadi", "familyName": "Okello"},
        "father": {"givenName": "Baraka", "familyName": "Okello"},
    }
