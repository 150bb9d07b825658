"""Predictors run on demand: predicted values recomputed here from the imported values."""

import random
from statistics import fmean
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
    ROOT,
)

pytestmark = pytest.mark.anyio
LEVEL_3, LEVEL_4 = "AIxNKu8iS2G", "NPRVdD53X83"
MONTHS = [f"{y}{m:02d}" for y in (2023, 2024) for m in range(1, 13)]
OUT_AVG, OUT_SUM, CONSTANT = "PrOutDe0001", "PrOutDe0002", "PrConst0001"

Values = dict[tuple[str, str, str], float]


def month_shift(pe: str, steps: int) -> str:
    index = int(pe[:4]) * 12 + int(pe[4:]) - 1 + steps
    return f"{index // 12}{index % 12 + 1:02d}"


def element(uid: str, name: str, value_type: str) -> dict[str, Any]:
    return {"id": uid, "name": name, "shortName": name, "valueType": value_type,
            "aggregationType": "SUM", "domainType": "AGGREGATE"}  # fmt: skip


AVG = {
    "id": "PrPredAvg01", "name": "ANC1 three-month average", "periodType": "Monthly",
    "output": {"id": OUT_AVG}, "generator": {"expression": f"avg(#{{{ANC1}}})"},
    "sequentialSampleCount": 3, "organisationUnitLevels": [{"id": LEVEL_4}],
}  # fmt: skip
SUM = {
    "id": "PrPredSum01", "name": "District ANC1 history plus ANC4 weighted",
    "periodType": "Monthly", "output": {"id": OUT_SUM},
    "generator": {"expression": f"sum(#{{{ANC1}}}) + #{{{ANC4}}} * C{{{CONSTANT}}}"},
    "sequentialSampleCount": 2, "sequentialSkipCount": 1, "annualSampleCount": 1,
    "organisationUnitLevels": [{"id": LEVEL_3}],
}  # fmt: skip


async def load(client: httpx.AsyncClient) -> Values:
    """Two years of ANC1/ANC4 (seeded random, ANC1 missing in about a fifth of the months)."""
    rng = random.Random(11)
    values: Values = {}
    for facility in FACILITIES:
        for month in MONTHS:
            if rng.random() > 0.2:
                values[(ANC1, month, facility)] = float(rng.randint(1, 50))
            values[(ANC4, month, facility)] = float(rng.randint(1, 20))
    payload = [
        {"dataElement": de, "period": pe, "orgUnit": ou, "value": str(int(v))}
        for (de, pe, ou), v in values.items()
    ]
    response = await client.post(
        "/api/dataValueSets", json={"dataSet": DATA_SET, "dataValues": payload}
    )
    assert response.status_code == 200, response.text
    metadata = {
        "dataElements": [element(OUT_AVG, "ANC1 predicted", "NUMBER"),
                         element(OUT_SUM, "ANC history", "INTEGER")],
        "constants": [{"id": CONSTANT, "name": "Weight", "shortName": "Weight", "value": 1.5}],
        "predictors": [AVG, SUM],
    }  # fmt: skip
    imported = await client.post("/api/metadata", json=metadata)
    assert imported.status_code == 200, imported.text
    return values


def expected_avg(values: Values, months: list[str]) -> dict[tuple[str, str], float]:
    out = {}
    for facility in FACILITIES:
        for month in months:
            window = [values.get((ANC1, month_shift(month, -k), facility)) for k in (1, 2, 3)]
            present = [v for v in window if v is not None]
            if present:
                out[(facility, month)] = round(fmean(present), 4)
    return out


def expected_sum(values: Values, months: list[str]) -> dict[tuple[str, str], float]:
    def district(de: str, pe: str, ou: str) -> float | None:
        found = [
            v for (d, p, f), v in values.items() if d == de and p == pe and DISTRICT_OF[f] == ou
        ]
        return sum(found) if found else None

    out = {}
    for ou in (DISTRICT_1, DISTRICT_2):
        for month in months:
            samples = [month_shift(month, -2)] + [month_shift(month, k - 12) for k in range(-2, 3)]
            found = [v for s in samples if (v := district(ANC1, s, ou)) is not None]
            anc4 = district(ANC4, month, ou) or 0.0
            out[(ou, month)] = float(round(sum(found) + anc4 * 1.5))
    return out


async def predicted(client: httpx.AsyncClient, de: str) -> dict[tuple[str, str], float]:
    response = await client.get(
        "/api/dataValueSets",
        params={"dataElement": de, "startDate": "2020-01-01", "endDate": "2030-12-31",
                "orgUnit": ROOT, "children": "true"},
    )  # fmt: skip
    assert response.status_code == 200, response.text
    return {
        (v["orgUnit"], v["period"]): float(v["value"])
        for v in response.json().get("dataValues", [])
    }


async def test_run_all_writes_predictions(client: httpx.AsyncClient) -> None:
    values = await load(client)
    response = await client.post(
        "/api/predictors/run", params={"startDate": "2024-05-01", "endDate": "2024-06-30"}
    )
    assert response.status_code == 200, response.text
    months = ["202405", "202406"]
    want_avg, want_sum = expected_avg(values, months), expected_sum(values, months)
    body = response.json()
    total = len(want_avg) + len(want_sum)
    assert body["message"] == f"Generated {total} predictions"
    assert body["response"]["inserted"] == total and body["response"]["predictors"] == 2
    assert await predicted(client, OUT_AVG) == want_avg
    assert await predicted(client, OUT_SUM) == want_sum
    again = await client.post(
        "/api/predictors/run", params={"startDate": "2024-05-01", "endDate": "2024-06-30"}
    )
    assert again.json()["message"] == f"Generated {total} predictions"
    assert again.json()["response"]["inserted"] == 0
    assert again.json()["response"]["updated"] == 0
    assert again.json()["response"]["unchanged"] == total
    assert await predicted(client, OUT_AVG) == want_avg
    # one input changes: the predictions reading it are updated, the others left alone
    key = (ANC1, "202404", FACILITIES[0])
    values[key] = values.get(key, 0.0) + 30
    changed = {"dataElement": ANC1, "period": "202404", "orgUnit": FACILITIES[0],
               "value": str(int(values[key]))}  # fmt: skip
    assert (await client.post("/api/dataValueSets", json={"dataValues": [changed]})).is_success
    before = {**{(OUT_AVG, *k): v for k, v in want_avg.items()},
              **{(OUT_SUM, *k): v for k, v in want_sum.items()}}  # fmt: skip
    after = {**{(OUT_AVG, *k): v for k, v in expected_avg(values, months).items()},
             **{(OUT_SUM, *k): v for k, v in expected_sum(values, months).items()}}  # fmt: skip
    third = await client.post(
        "/api/predictors/run", params={"startDate": "2024-05-01", "endDate": "2024-06-30"}
    )
    summary = third.json()["response"]
    assert summary["inserted"] == len(after.keys() - before.keys())
    assert summary["updated"] == sum(
        1 for k in after.keys() & before.keys() if after[k] != before[k]
    )
    assert summary["updated"] >= 2
    assert summary["unchanged"] == sum(
        1 for k in after.keys() & before.keys() if after[k] == before[k]
    )
    assert await predicted(client, OUT_SUM) == {
        k[1:]: v for k, v in after.items() if k[0] == OUT_SUM
    }


async def test_run_one_predictor(client: httpx.AsyncClient) -> None:
    values = await load(client)
    response = await client.post(
        f"/api/predictors/{AVG['id']}/run",
        params={"startDate": "2024-02-01", "endDate": "2024-04-30"},
    )
    want = expected_avg(values, ["202402", "202403", "202404"])
    assert response.json()["message"] == f"Generated {len(want)} predictions"
    assert await predicted(client, OUT_AVG) == want
    assert await predicted(client, OUT_SUM) == {}
    dates = {"startDate": "2024-01-01", "endDate": "2024-02-01"}
    missing = await client.post("/api/predictors/NoSuchPred1/run", params=dates)
    assert missing.status_code == 404
    no_dates = await client.post("/api/predictors/run")
    assert no_dates.status_code == 409 and "startDate" in no_dates.json()["message"]


@pytest.mark.parametrize(
    ("generator", "token"),
    [
        (f"avg(#{{{ANC1}}}", f"#{{{ANC1}}}"),
        (f"avg(sum(#{{{ANC1}}}))", "sum"),
        (f"average(#{{{ANC1}}})", "average"),
        (f"avg(#{{{ANC1}}}, 2)", "avg"),
        (f"avg(#{{{ANC1}}}) + D{{abc}}", "D{abc}"),
    ],
)
async def test_bad_generator_refused_with_its_token(
    client: httpx.AsyncClient, generator: str, token: str
) -> None:
    output = element(OUT_AVG, "ANC1 predicted", "NUMBER")
    predictor = {**AVG, "generator": {"expression": generator}}
    response = await client.post(
        "/api/metadata", json={"dataElements": [output], "predictors": [predictor]}
    )
    assert response.status_code == 409
    report = response.json()["response"]
    errors = [
        e for t in report["typeReports"] for o in t["objectReports"] for e in o["errorReports"]
    ]
    assert [(e["errorCode"], e["errorProperty"]) for e in errors] == [("E4027", "generator")]
    assert f"`{token}`" in errors[0]["message"]
    assert report["stats"]["created"] == 0
    assert (await client.get(f"/api/dataElements/{OUT_AVG}")).status_code == 404
    assert (await client.get("/api/predictors")).json()["predictors"] == []


async def test_sample_skip_test_and_single_object_writes(client: httpx.AsyncClient) -> None:
    values = await load(client)
    skipping = {
        **AVG, "id": "PrPredSkip1", "name": "ANC1 sum, busy ANC4 months left out",
        "generator": {"expression": f"sum(#{{{ANC1}}})"},
        "sampleSkipTest": {"expression": f"#{{{ANC4}}} > 15"},
    }  # fmt: skip
    bad = {**skipping, "id": "PrPredSkip2", "name": "Bad skip test",
           "sampleSkipTest": {"expression": f"#{{{ANC4}}} >"}}  # fmt: skip
    refused = await client.post("/api/predictors", json=bad)
    assert refused.status_code == 409
    assert refused.json()["response"]["errorReports"][0]["errorProperty"] == "sampleSkipTest"
    created = await client.post("/api/predictors", json=skipping)
    assert created.status_code == 201, created.text
    await client.post(
        f"/api/predictors/{skipping['id']}/run",
        params={"startDate": "2024-03-01", "endDate": "2024-03-31"},
    )
    want = {}
    for facility in FACILITIES:
        kept = [
            values[(ANC1, pe, facility)]
            for pe in ("202402", "202401", "202312")
            if values[(ANC4, pe, facility)] <= 15 and (ANC1, pe, facility) in values
        ]
        if kept:
            want[(facility, "202403")] = float(sum(kept))
    assert want
    assert await predicted(client, OUT_AVG) == want
