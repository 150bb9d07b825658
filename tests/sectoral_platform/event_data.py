"""A small, hand-written Child Programme data set for event analytics and program indicators."""

from __future__ import annotations

from typing import Any

import httpx

from tests.sectoral_platform.conftest import FACILITIES
from tests.sectoral_platform.tracker_helpers import (
    BCG_DOSE,
    BIRTH,
    DOB,
    FIRST_NAME,
    IMMUNISATION,
    MEASLES,
    PERSON,
    PROGRAM,
    SEX,
    WEIGHT,
    sync_import,
)

SEX_OPTION_SET = "pC3N9N77UmT"

# (te, enrollment, ou, name, sex, birth date, weight, bcg, immunisation date or None, measles)
CHILDREN: list[tuple[str, str, str, str, str, str, int, bool, str | None, bool]] = [
    ("TeAnalyt001", "EnAnalyt001", FACILITIES[0], "Ama", "Female", "2024-01-10", 3100, True,
     "2024-02-15", True),
    ("TeAnalyt002", "EnAnalyt002", FACILITIES[0], "Kofi", "Male", "2024-01-20", 2500, False,
     None, False),
    ("TeAnalyt003", "EnAnalyt003", FACILITIES[1], "Abena", "Female", "2024-02-05", 3600, True,
     "2024-03-01", False),
    ("TeAnalyt004", "EnAnalyt004", FACILITIES[3], "Yaw", "Male", "2024-02-28", 2900, True,
     "2024-04-10", True),
    ("TeAnalyt005", "EnAnalyt005", FACILITIES[3], "Adwoa", "Female", "2024-03-15", 4000, False,
     None, False),
]  # fmt: skip


def birth_event(i: int) -> str:
    return f"EvBirth{i:04d}"


def payload() -> dict[str, Any]:
    entities = []
    for i, (te, en, ou, name, sex, born, weight, bcg, imm, measles) in enumerate(CHILDREN):
        events: list[dict[str, Any]] = [
            {
                "event": birth_event(i), "programStage": BIRTH, "orgUnit": ou,
                "occurredAt": born, "status": "COMPLETED",
                "dataValues": [
                    {"dataElement": WEIGHT, "value": str(weight)},
                    {"dataElement": BCG_DOSE, "value": "true" if bcg else "false"},
                ],
            }
        ]  # fmt: skip
        if imm is not None:
            events.append(
                {
                    "event": f"EvImmun{i:04d}", "programStage": IMMUNISATION, "orgUnit": ou,
                    "occurredAt": imm, "status": "ACTIVE",
                    "dataValues": [{"dataElement": MEASLES, "value": str(measles).lower()}],
                }
            )  # fmt: skip
        entities.append(
            {
                "trackedEntity": te, "trackedEntityType": PERSON, "orgUnit": ou,
                "attributes": [
                    {"attribute": FIRST_NAME, "value": name},
                    {"attribute": DOB, "value": born},
                    {"attribute": SEX, "value": sex},
                ],
                "enrollments": [
                    {"enrollment": en, "program": PROGRAM, "orgUnit": ou, "enrolledAt": born,
                     "occurredAt": born, "status": "ACTIVE", "events": events}
                ],
            }
        )  # fmt: skip
    return {"trackedEntities": entities}


async def load(client: httpx.AsyncClient) -> None:
    report = await sync_import(client, payload())
    assert report["status"] == "OK", report
