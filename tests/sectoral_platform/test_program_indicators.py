"""Program indicators: import checks, and values in `/api/analytics` recomputed by hand."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.sectoral_platform.conftest import DISTRICT_1, DISTRICT_2, DISTRICT_OF, ROOT
from tests.sectoral_platform.event_data import CHILDREN, load
from tests.sectoral_platform.tracker_helpers import (
    BIRTH,
    IMMUNISATION,
    MEASLES,
    PROGRAM,
    SEX,
    WEIGHT,
)

pytestmark = pytest.mark.anyio
AVG_WEIGHT = "PiAvgWeight"
LOW_WEIGHT = "PiLowWeight"
KILOS = "PiSumKilos0"
GIRLS_MEASLES = "PiGirlsMeas"


def indicator(uid: str, expression: str, aggregation: str, **extra: Any) -> dict[str, Any]:
    return {
        "id": uid, "name": f"PI {uid}", "shortName": f"PI {uid}", "program": {"id": PROGRAM},
        "expression": expression, "aggregationType": aggregation, **extra,
    }  # fmt: skip


INDICATORS = [
    indicator(AVG_WEIGHT, f"#{{{BIRTH}.{WEIGHT}}}", "AVERAGE"),
    indicator(LOW_WEIGHT, "V{event_count}", "COUNT", filter=f"#{{{BIRTH}.{WEIGHT}}} < 3000"),
    indicator(KILOS, f"#{{{BIRTH}.{WEIGHT}}} / 1000", "SUM", decimals=1),
    indicator(
        GIRLS_MEASLES, "V{enrollment_count}", "COUNT", analyticsType="ENROLLMENT",
        filter=f"A{{{SEX}}} == 'Female' && d2:hasValue(#{{{IMMUNISATION}.{MEASLES}}})",
    ),
]  # fmt: skip


@pytest.fixture(scope="module")
async def data(shared_client: httpx.AsyncClient) -> None:
    await load(shared_client)
    response = await shared_client.post("/api/metadata", json={"programIndicators": INDICATORS})
    assert response.status_code == 200, response.text


async def analytics(
    client: httpx.AsyncClient, *params: tuple[str, str]
) -> dict[tuple[str, ...], str]:
    response = await client.get("/api/analytics", params=list(params))
    assert response.status_code == 200, response.text
    return {tuple(row[:-1]): row[-1] for row in response.json()["rows"]}


async def test_event_indicators_per_district(shared_client: httpx.AsyncClient, data: None) -> None:
    found = await analytics(
        shared_client, ("dimension", f"dx:{AVG_WEIGHT};{LOW_WEIGHT};{KILOS}"),
        ("dimension", f"ou:{DISTRICT_1};{DISTRICT_2}"), ("filter", "pe:2024Q1"),
    )  # fmt: skip
    for district in (DISTRICT_1, DISTRICT_2):
        weights = [c[6] for c in CHILDREN if DISTRICT_OF[c[2]] == district]
        assert float(found[(AVG_WEIGHT, district)]) == round(sum(weights) / len(weights), 2)
        assert found[(LOW_WEIGHT, district)] == str(sum(1 for w in weights if w < 3000))
        assert float(found[(KILOS, district)]) == round(sum(weights) / 1000, 1)


async def test_event_indicator_per_month(shared_client: httpx.AsyncClient, data: None) -> None:
    found = await analytics(
        shared_client, ("dimension", f"dx:{LOW_WEIGHT}"), ("dimension", "pe:202401;202402;202403"),
        ("filter", f"ou:{ROOT}"),
    )  # fmt: skip
    expected = {}
    for month in ("202401", "202402", "202403"):
        n = sum(1 for c in CHILDREN if c[5][:7].replace("-", "") == month and c[6] < 3000)
        if n:
            expected[(LOW_WEIGHT, month)] = str(n)
    assert found == expected


async def test_enrollment_indicator(shared_client: httpx.AsyncClient, data: None) -> None:
    found = await analytics(
        shared_client, ("dimension", f"dx:{GIRLS_MEASLES}"), ("dimension", "pe:2024"),
        ("dimension", f"ou:{ROOT}"),
    )  # fmt: skip
    girls = sum(1 for c in CHILDREN if c[4] == "Female" and c[8] is not None)
    assert found == {(GIRLS_MEASLES, "2024", ROOT): str(girls)}
    response = await shared_client.get(
        "/api/analytics", params=[("dimension", f"dx:{GIRLS_MEASLES}"), ("dimension", "pe:2024"),
                                  ("filter", f"ou:{ROOT}")],
    )  # fmt: skip
    assert response.json()["metaData"]["items"][GIRLS_MEASLES] == {"name": f"PI {GIRLS_MEASLES}"}


async def test_metadata_lists_and_exports(shared_client: httpx.AsyncClient, data: None) -> None:
    response = await shared_client.get(
        "/api/programIndicators",
        params={"fields": "id,expression,analyticsType", "paging": "false"},
    )
    assert response.status_code == 200, response.text
    listed = {pi["id"]: pi for pi in response.json()["programIndicators"]}
    assert listed[GIRLS_MEASLES]["analyticsType"] == "ENROLLMENT"
    assert listed[AVG_WEIGHT]["expression"] == f"#{{{BIRTH}.{WEIGHT}}}"


@pytest.mark.parametrize(
    ("field", "text", "token"),
    [
        ("expression", f"#{{{BIRTH}.{WEIGHT}}} +", "+"),
        ("expression", "V{bogus_count}", "V{bogus_count}"),
        ("expression", "d2:median(1)", "d2:median"),
        ("filter", f"#{{{WEIGHT}}} > 1", f"#{{{WEIGHT}}}"),
        ("filter", "(1 > 0", "0"),
    ],
)
async def test_unparseable_expression_refused(
    client: httpx.AsyncClient, field: str, text: str, token: str
) -> None:
    pi = indicator("PiBadExpr01", "1", "SUM")
    pi[field] = text
    response = await client.post("/api/metadata", json={"programIndicators": [pi]})
    assert response.status_code == 409, response.text
    report = response.json()["response"]["typeReports"][0]["objectReports"][0]["errorReports"][0]
    assert report["errorProperty"] == field
    assert f"`{token}`" in report["message"]
    assert (await client.get("/api/programIndicators/PiBadExpr01")).status_code == 404
