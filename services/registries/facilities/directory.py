"""The directory's people and services around each facility (mCSD): HealthcareService,
Practitioner, PractitionerRole, Endpoint and OrganizationAffiliation rows, generated from the
facility's own code so that every run and every size gives the same ones."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from sqlalchemy import Index
from sqlmodel import Field

from services.registries.base import Base

ENTRY_TYPES = (
    "HealthcareService",
    "Practitioner",
    "PractitionerRole",
    "Endpoint",
    "OrganizationAffiliation",
)
SERVICE_TYPES = {
    "general-outpatient": "General outpatient care",
    "maternity": "Maternity and antenatal care",
    "immunisation": "Immunisation",
    "hiv-care": "HIV care and treatment",
    "laboratory": "Laboratory",
    "pharmacy": "Pharmacy",
}
ROLES = {"doctor": "Doctor", "nurse": "Nurse", "pharmacist": "Pharmacist"}
_GIVEN = ("Amani", "Baraka", "Neema", "Zawadi", "Imani", "Juma", "Rehema", "Tumaini", "Asha")
_FAMILY = ("Mwangi", "Okello", "Banda", "Phiri", "Kamau", "Achieng", "Mensah", "Dlamini")


class DirectoryEntry(Base, table=True):
    """One resource; the reference columns are the profile's links, named by what they hold."""

    __tablename__ = "directory_entry"
    __table_args__ = (Index("ix_directory_type_updated_id", "resource_type", "last_updated", "id"),)

    resource_type: str = Field(primary_key=True, max_length=40)
    id: str = Field(primary_key=True, max_length=80)
    name: str = Field(max_length=200)
    active: bool = True
    type_code: str | None = Field(default=None, max_length=40)
    organization_id: str | None = Field(default=None, max_length=64, index=True)
    location_id: str | None = Field(default=None, max_length=64, index=True)
    practitioner_id: str | None = Field(default=None, max_length=80, index=True)
    service_id: str | None = Field(default=None, max_length=80)
    participant_id: str | None = Field(default=None, max_length=64, index=True)
    last_updated: datetime
    version_id: int = 1


def _row(resource_type: str, ident: str, name: str, **links: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "resource_type": resource_type,
        "id": ident,
        "name": name,
        "active": True,
        "type_code": None,
        "organization_id": None,
        "location_id": None,
        "practitioner_id": None,
        "service_id": None,
        "participant_id": None,
    }
    return {**base, **links}


def for_facility(facility: dict[str, Any], seed: int) -> Iterator[dict[str, Any]]:
    """Services, practitioners with their roles, an endpoint and the affiliation with the
    district, for one generated facility row."""
    code, name = facility["id"], facility["name"]
    rng = random.Random(f"{seed}:{code}:directory")
    hospital = facility["type_code"] == "hospital"
    services = ["general-outpatient", *rng.sample(sorted(SERVICE_TYPES)[1:], 2 if hospital else 1)]
    where = {"organization_id": code, "location_id": code}
    for n, service in enumerate(services, start=1):
        yield _row(
            "HealthcareService",
            f"{code}-HS{n}",
            f"{SERVICE_TYPES[service]} at {name}",
            type_code=service,
            **where,
        )
    for n in range(1, (4 if hospital else 3)):
        person = f"{code}-P{n}"
        role = "doctor" if n == 1 and hospital else rng.choice(("nurse", "pharmacist", "nurse"))
        yield _row("Practitioner", person, f"{rng.choice(_GIVEN)} {rng.choice(_FAMILY)}")
        yield _row(
            "PractitionerRole",
            f"{code}-PR{n}",
            f"{ROLES[role]} at {name}",
            type_code=role,
            practitioner_id=person,
            service_id=f"{code}-HS{1 + (n - 1) % len(services)}",
            **where,
        )
    yield _row("Endpoint", f"{code}-EP", f"{name} FHIR server", organization_id=code)
    yield _row(
        "OrganizationAffiliation",
        f"{code}-OA",
        f"{name} in {facility['parent_id']}",
        organization_id=facility["parent_id"],
        participant_id=code,
        location_id=code,
    )


def generate(places: list[dict[str, Any]], seed: int) -> list[dict[str, Any]]:
    return [row for p in places if p["level"] == "facility" for row in for_facility(p, seed)]
