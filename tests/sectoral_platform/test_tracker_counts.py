"""Tracker events aggregated into data values: analytics totals equal independent counts."""

from __future__ import annotations

import random
from collections import Counter
from typing import Any

import httpx
import pytest

from tests.sectoral_platform.conftest import FACILITIES, ROOT
from tests.sectoral_platform.tracker_helpers import (
    IMMUNISATION,
    MEASLES,
    child,
    sync_import,
)

pytestmark = pytest.mark.anyio
BCG_TOTAL, MEASLES_TOTAL = "ChBcgDoses1", "ChMslDoses1"
MONTHS = [f"2025-{m:02d}" for m in range(1, 7)]


async def analytics(
    client: httpx.AsyncClient, dx: str, pe: str, ou: str
) -> dict[tuple[str, ...], int]:
    response = await client.get(
        "/api/analytics", params=[("dimension", f"dx:{dx}"), ("dimension", f"pe:{pe}"),
                                  ("dimension", f"ou:{ou}")],
    )  # fmt: skip
    assert response.status_code == 200, response.text
    return {tuple(row[:-1]): int(float(row[-1])) for row in response.json()["rows"]}


async def test_aggregation_totals_equal_counted_events(client: httpx.AsyncClient) -> None:
    rng = random.Random(8)
    people: list[dict[str, Any]] = []
    measles: Counter[tuple[str, str]] = Counter()
    bcg: Counter[tuple[str, str]] = Counter()
    for n in range(60):
        ou = rng.choice(FACILITIES)
        born = rng.choice(MONTHS)
        te = child(ou=ou, first=f"Child {n}", dob=f"{born}-0{rng.randint(1, 9)}")
        birth, dose = te["enrollments"][0]["events"]
        given_bcg = rng.random() < 0.7
        birth["dataValues"][1]["value"] = "true" if given_bcg else "false"
        bcg[(ou, born.replace("-", ""))] += given_bcg
        month = rng.choice(MONTHS)
        dose["occurredAt"] = f"{month}-15"
        dose["status"] = rng.choice(["COMPLETED", "COMPLETED", "SKIPPED"])
        if dose["status"] == "SKIPPED":
            dose["dataValues"] = []
        else:
            measles[(ou, month.replace("-", ""))] += 1
        people.append(te)
    await sync_import(client, {"trackedEntities": people})
    summary = (await client.post("/api/tracker/aggregate")).json()
    assert summary["status"] == "SUCCESS", summary
    months = ";".join(m.replace("-", "") for m in MONTHS)
    by_facility = await analytics(client, MEASLES_TOTAL, months, ";".join(FACILITIES))
    assert by_facility == {(MEASLES_TOTAL, pe, ou): n for (ou, pe), n in measles.items() if n}
    national = await analytics(client, f"{MEASLES_TOTAL};{BCG_TOTAL}", "2025", ROOT)
    assert national == {
        (MEASLES_TOTAL, "2025", ROOT): sum(measles.values()),
        (BCG_TOTAL, "2025", ROOT): sum(bcg.values()),
    }
    # an event deleted at the facility: the next run lowers the national figure
    events = await client.get(
        "/api/tracker/events",
        params={"programStage": IMMUNISATION, "orgUnit": ROOT, "orgUnitMode": "DESCENDANTS",
                "status": "COMPLETED", "pageSize": 1},
    )  # fmt: skip
    gone = events.json()["events"][0]
    assert gone["dataValues"][0]["dataElement"] == MEASLES
    await sync_import(client, {"events": [{"event": gone["event"]}]}, importStrategy="DELETE")
    await client.post("/api/tracker/aggregate")
    after = await analytics(client, MEASLES_TOTAL, "2025", ROOT)
    assert after == {(MEASLES_TOTAL, "2025", ROOT): sum(measles.values()) - 1}
    again = (await client.post("/api/tracker/aggregate")).json()
    assert again["importCount"]["imported"] == again["importCount"]["updated"] == 0
