"""One batch that creates, updates, leaves unchanged and deletes values over many keys at once:
on PostgreSQL the lookup, the updates, the deletes and the district totals are each one
set-based statement; the stored values and the totals analytics reads must agree with them."""

from collections import defaultdict
from typing import Any

import httpx
import pytest

from tests.sectoral_platform.conftest import (
    ANC1,
    ANC4,
    DATA_SET,
    DISTRICT_1,
    DISTRICT_2,
    DISTRICT_OF,
    FACILITIES,
)
from tests.sectoral_platform.test_data_values import stored

pytestmark = pytest.mark.anyio
MONTHS = ["202401", "202402", "202403"]


def row(de: str, pe: str, ou: str, value: str) -> dict[str, Any]:
    return {"dataElement": de, "period": pe, "orgUnit": ou, "value": value}


async def post(client: httpx.AsyncClient, rows: list[dict[str, Any]]) -> dict[str, Any]:
    response = await client.post(
        "/api/dataValueSets", json={"dataSet": DATA_SET, "dataValues": rows}
    )
    assert response.status_code == 200, response.text
    counts: dict[str, Any] = response.json()["response"]["importCount"]
    return counts


async def test_a_mixed_batch_keeps_values_and_district_totals_consistent(
    client: httpx.AsyncClient,
) -> None:
    keys = [(de, pe, ou) for de in (ANC1, ANC4) for pe in MONTHS for ou in FACILITIES]
    expected = {k: 1 + i for i, k in enumerate(keys)}
    first = await post(client, [row(*k, str(v)) for k, v in expected.items()])
    assert first == {"imported": 36, "updated": 0, "ignored": 0, "deleted": 0}

    changed, same, cleared = keys[0:12], keys[12:20], keys[20:30]
    batch = [row(*k, str(expected[k] * 10)) for k in changed]
    batch += [row(*k, str(expected[k])) for k in same]
    batch += [row(*k, "") for k in cleared]
    added = [(de, "202404", ou) for de in (ANC1, ANC4) for ou in FACILITIES]
    batch += [row(*k, "7") for k in added]
    second = await post(client, batch)
    assert second == {"imported": 12, "updated": 20, "ignored": 0, "deleted": 10}

    for k in changed:
        expected[k] *= 10
    for k in cleared:
        del expected[k]
    expected.update({k: 7 for k in added})
    found = {
        (v["dataElement"], v["period"], v["orgUnit"]): int(v["value"])
        for v in await stored(client, period=[*MONTHS, "202404"])
    }
    assert found == expected

    totals: dict[tuple[str, str, str], float] = defaultdict(float)
    for (de, pe, ou), v in expected.items():
        totals[(de, pe, DISTRICT_OF[ou])] += v
    assert await analytics(client, [DISTRICT_1, DISTRICT_2]) == dict(totals)  # the rollup
    by_unit = {k: float(v) for k, v in expected.items()}
    assert await analytics(client, FACILITIES) == by_unit  # the stored values' numbers


async def analytics(client: httpx.AsyncClient, units: list[str]) -> dict[tuple[Any, ...], float]:
    params: list[tuple[str, Any]] = [
        ("dimension", f"dx:{ANC1};{ANC4}"),
        ("dimension", f"pe:{';'.join([*MONTHS, '202404'])}"),
        ("dimension", f"ou:{';'.join(units)}"),
    ]
    response = await client.get("/api/analytics", params=params)
    assert response.status_code == 200, response.text
    return {tuple(r[:3]): float(r[3]) for r in response.json()["rows"]}
