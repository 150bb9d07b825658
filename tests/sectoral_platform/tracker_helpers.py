"""Builders for tracker payloads against the seeded Child Programme."""

from __future__ import annotations

import asyncio
import secrets
import time
from typing import Any

import httpx

from tests.sectoral_platform.conftest import FACILITIES

PERSON = "nEenWmSyUEp"
PROGRAM = "IpHINAT79UW"
BIRTH = "A03MvHHogjR"
IMMUNISATION = "ZzYYXq4fJie"
FIRST_NAME = "w75KJ2mc4zz"
LAST_NAME = "zDhUuAYrxNC"
SEX = "cejWyOfXge6"
DOB = "iESIqZ0R0R0"
TOKEN = "NatIdTok0en"
BCG_DOSE = "bx6fsa0t90x"
WEIGHT = "UXz7xuGCEhU"
MEASLES = "GQY2lXrypjO"


def uid() -> str:
    alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
    return "T" + "".join(secrets.choice(alphabet) for _ in range(10))


def child(
    *,
    ou: str = FACILITIES[0],
    first: str = "Ama",
    dob: str = "2024-03-01",
    token: str | None = None,
    events: int = 2,
    te: str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """A tracked entity enrolled in the Child Programme with a birth and immunisation events."""
    attributes = [
        {"attribute": FIRST_NAME, "value": first},
        {"attribute": DOB, "value": dob},
        {"attribute": SEX, "value": "Female"},
    ]
    if token is not None:
        attributes.append({"attribute": TOKEN, "value": token})
    stages = [
        {
            "programStage": BIRTH,
            "orgUnit": ou,
            "occurredAt": dob,
            "status": "COMPLETED",
            "dataValues": [
                {"dataElement": WEIGHT, "value": "3100"},
                {"dataElement": BCG_DOSE, "value": "true"},
            ],
        },
        {
            "programStage": IMMUNISATION,
            "orgUnit": ou,
            "occurredAt": "2024-12-01",
            "status": "COMPLETED",
            "dataValues": [{"dataElement": MEASLES, "value": "true"}],
        },
    ][:events]
    return {
        "trackedEntity": te or uid(),
        "trackedEntityType": PERSON,
        "orgUnit": ou,
        "attributes": attributes,
        "enrollments": [
            {
                "program": PROGRAM,
                "orgUnit": ou,
                "enrolledAt": dob,
                "occurredAt": dob,
                "status": "ACTIVE",
                "events": stages,
            }
        ],
        **extra,
    }


async def sync_import(
    client: httpx.AsyncClient, body: dict[str, Any], status: int = 200, **params: str
) -> dict[str, Any]:
    response = await client.post("/api/tracker", params={"async": "false", **params}, json=body)
    assert response.status_code == status, response.text
    report: dict[str, Any] = response.json()
    return report


def codes(report: dict[str, Any]) -> list[str]:
    return [e["errorCode"] for e in report["validationReport"]["errorReports"]]


async def job_report(client: httpx.AsyncClient, job: str, deadline: float = 10.0) -> dict[str, Any]:
    """Poll the job's report until it is ready (or fail after `deadline` seconds)."""
    limit = time.monotonic() + deadline
    while time.monotonic() < limit:
        response = await client.get(f"/api/tracker/jobs/{job}/report")
        if response.status_code == 200:
            report: dict[str, Any] = response.json()
            return report
        assert response.status_code == 404, response.text
        await asyncio.sleep(0.02)
    raise AssertionError(f"job {job} did not finish within {deadline} s")
