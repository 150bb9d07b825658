"""Event and enrollment analytics against counts and averages computed from the loaded rows."""

from __future__ import annotations

from collections import Counter
from typing import Any

import httpx
import pytest

from tests.sectoral_platform.conftest import (
    DISTRICT_1,
    DISTRICT_2,
    DISTRICT_OF,
    FACILITIES,
    REGION,
    ROOT,
)
from tests.sectoral_platform.event_data import CHILDREN, birth_event, load
from tests.sectoral_platform.tracker_helpers import (
    BIRTH,
    FIRST_NAME,
    IMMUNISATION,
    MEASLES,
    PROGRAM,
    SEX,
    WEIGHT,
    sync_import,
)

pytestmark = pytest.mark.anyio
EVENTS = f"/api/analytics/events/query/{PROGRAM}"
AGGREGATE = f"/api/analytics/events/aggregate/{PROGRAM}"
ENROLLMENTS = f"/api/analytics/enrollments/query/{PROGRAM}"


@pytest.fixture(scope="module")
async def data(shared_client: httpx.AsyncClient) -> None:
    await load(shared_client)


async def get(client: httpx.AsyncClient, path: str, status: int = 200, **params: Any) -> Any:
    pairs = [(k, v) for k, vs in params.items() for v in (vs if isinstance(vs, list) else [vs])]
    response = await client.get(path, params=pairs)
    assert response.status_code == status, response.text
    return response.json()


def table(body: dict[str, Any]) -> dict[tuple[str, ...], str]:
    return {tuple(row[:-1]): row[-1] for row in body["rows"]}


async def test_aggregate_counts_by_month_and_district(
    shared_client: httpx.AsyncClient, data: None
) -> None:
    body = await get(
        shared_client, AGGREGATE, stage=BIRTH,
        dimension=["pe:202401;202402;202403", f"ou:{DISTRICT_1};{DISTRICT_2}"],
    )  # fmt: skip
    expected = Counter((c[5][:4] + c[5][5:7], DISTRICT_OF[c[2]]) for c in CHILDREN)
    assert table(body) == {k: str(v) for k, v in expected.items()}
    assert [h["name"] for h in body["headers"]] == ["pe", "ou", "value"]
    assert body["headers"][-1] == {
        "name": "value", "column": "Value", "valueType": "NUMBER", "type": "java.lang.Double",
        "hidden": False, "meta": False,
    }  # fmt: skip
    assert body["height"] == len(body["rows"]) and body["width"] == body["headerWidth"] == 3
    assert body["metaData"]["dimensions"]["ou"] == [DISTRICT_1, DISTRICT_2]
    assert body["metaData"]["items"]["202402"] == {"name": "February 2024"}
    # the whole quarter at the region, as a filter: every birth event of Q1
    body = await get(shared_client, AGGREGATE, stage=BIRTH, dimension=f"ou:{REGION}",
                     filter="pe:2024Q1")  # fmt: skip
    assert body["rows"] == [[REGION, str(len(CHILDREN))]]


async def test_aggregate_by_attribute_with_filters(
    shared_client: httpx.AsyncClient, data: None
) -> None:
    body = await get(
        shared_client, AGGREGATE, stage=BIRTH, startDate="2024-01-01", endDate="2024-12-31",
        dimension=[SEX, f"ou:{ROOT}"], filter=f"{WEIGHT}:GT:2800",
    )  # fmt: skip
    expected = Counter(c[4] for c in CHILDREN if c[6] > 2800)
    assert table(body) == {(sex, ROOT): str(n) for sex, n in expected.items()}
    assert [h["name"] for h in body["headers"]] == [SEX, "ou", "value"]
    assert body["headers"][0]["optionSet"] == "pC3N9N77UmT"


async def test_aggregate_value_average_per_district(
    shared_client: httpx.AsyncClient, data: None
) -> None:
    body = await get(
        shared_client, AGGREGATE, stage=BIRTH, value=WEIGHT, aggregationType="AVERAGE",
        dimension=f"ou:{DISTRICT_1};{DISTRICT_2}", filter="pe:2024",
    )  # fmt: skip
    for district in (DISTRICT_1, DISTRICT_2):
        weights = [c[6] for c in CHILDREN if DISTRICT_OF[c[2]] == district]
        assert float(table(body)[(district,)]) == round(sum(weights) / len(weights), 2)
    body = await get(shared_client, AGGREGATE, stage=BIRTH, value=WEIGHT, aggregationType="MAX",
                     dimension=f"ou:{ROOT}", filter="pe:2024")  # fmt: skip
    assert body["rows"] == [[ROOT, str(max(c[6] for c in CHILDREN))]]


async def test_event_query_rows_headers_and_pager(
    shared_client: httpx.AsyncClient, data: None
) -> None:
    body = await get(
        shared_client, EVENTS, stage=BIRTH, startDate="2024-01-01", endDate="2024-12-31",
        dimension=[f"ou:{ROOT}", f"{BIRTH}.{WEIGHT}:GE:2900", SEX],
    )  # fmt: skip
    names = [h["name"] for h in body["headers"]]
    assert names[:8] == ["psi", "ps", "eventdate", "storedby", "createdbydisplayname",
                         "lastupdatedbydisplayname", "lastupdated", "scheduleddate"]  # fmt: skip
    assert names[-4:] == ["eventstatus", "ou", f"{BIRTH}.{WEIGHT}", SEX]
    assert body["headers"][2]["type"] == "java.time.LocalDate"
    kept = sorted((c[5], i) for i, c in enumerate(CHILDREN) if c[6] >= 2900)
    rows = body["rows"]
    assert [r[0] for r in rows] == [birth_event(i) for _, i in kept]
    at = {
        name: names.index(name)
        for name in ("eventdate", "ou", "tei", "pi", f"{BIRTH}.{WEIGHT}", SEX)
    }
    first = CHILDREN[kept[0][1]]
    assert rows[0][at["eventdate"]] == f"{first[5]} 00:00:00.0"
    assert (rows[0][at["ou"]], rows[0][at["tei"]], rows[0][at["pi"]]) == (
        first[2],
        first[0],
        first[1],
    )
    assert [r[at[f"{BIRTH}.{WEIGHT}"]] for r in rows] == [str(CHILDREN[i][6]) for _, i in kept]
    assert [r[at[SEX]] for r in rows] == [CHILDREN[i][4] for _, i in kept]
    assert body["metaData"]["pager"] == {
        "page": 1,
        "total": len(kept),
        "pageSize": 50,
        "pageCount": 1,
    }
    paged = await get(
        shared_client, EVENTS, stage=BIRTH, startDate="2024-01-01", endDate="2024-12-31",
        dimension=f"ou:{ROOT}", page=2, pageSize=2, desc="eventdate",
    )  # fmt: skip
    newest_first = [
        birth_event(i) for _, i in sorted(((c[5], i) for i, c in enumerate(CHILDREN)), reverse=True)
    ]
    assert [r[0] for r in paged["rows"]] == newest_first[2:4]
    assert paged["metaData"]["pager"] == {
        "page": 2, "total": len(CHILDREN), "pageSize": 2, "pageCount": (len(CHILDREN) + 1) // 2,
    }  # fmt: skip


@pytest.mark.parametrize(
    ("condition", "keep"),
    [
        (f"{WEIGHT}:LT:2900", lambda c: c[6] < 2900),
        (f"{WEIGHT}:LE:2900", lambda c: c[6] <= 2900),
        (f"{WEIGHT}:NE:3100", lambda c: c[6] != 3100),
        (f"{WEIGHT}:EQ:3600", lambda c: c[6] == 3600),
        (f"{WEIGHT}:GT:2500:LT:4000", lambda c: 2500 < c[6] < 4000),
        (f"{FIRST_NAME}:LIKE:bEn", lambda c: "ben" in c[3].lower()),
        (f"{FIRST_NAME}:IN:ama;yaw", lambda c: c[3] in ("Ama", "Yaw")),
        (f"{SEX}:EQ:female", lambda c: c[4] == "Female"),
    ],
)
async def test_filter_operators(
    shared_client: httpx.AsyncClient, data: None, condition: str, keep: Any
) -> None:
    body = await get(shared_client, EVENTS, stage=BIRTH, dimension=f"ou:{ROOT}", filter=condition,
                     startDate="2024-01-01", endDate="2024-12-31")  # fmt: skip
    assert sorted(r[0] for r in body["rows"]) == sorted(
        birth_event(i) for i, c in enumerate(CHILDREN) if keep(c)
    )


async def test_ou_modes(shared_client: httpx.AsyncClient, data: None) -> None:
    async def events(ou: str, mode: str) -> set[str]:
        body = await get(shared_client, EVENTS, stage=BIRTH, dimension=f"ou:{ou}", ouMode=mode,
                         startDate="2024-01-01", endDate="2024-12-31")  # fmt: skip
        return {r[0] for r in body["rows"]}

    under_d1 = {birth_event(i) for i, c in enumerate(CHILDREN) if DISTRICT_OF[c[2]] == DISTRICT_1}
    assert await events(DISTRICT_1, "DESCENDANTS") == under_d1
    assert await events(DISTRICT_1, "CHILDREN") == under_d1  # facilities are its children
    assert await events(DISTRICT_1, "SELECTED") == set()
    at_f0 = {birth_event(i) for i, c in enumerate(CHILDREN) if c[2] == FACILITIES[0]}
    assert await events(FACILITIES[0], "SELECTED") == at_f0
    assert await events(REGION, "CHILDREN") == set()  # nothing is captured at districts


async def test_enrollment_query(shared_client: httpx.AsyncClient, data: None) -> None:
    body = await get(
        shared_client, ENROLLMENTS, startDate="2024-01-01", endDate="2024-12-31",
        dimension=[
            f"ou:{ROOT}", f"{BIRTH}.{WEIGHT}", f"{IMMUNISATION}.{MEASLES}", f"{SEX}:EQ:Female"
        ],
    )  # fmt: skip
    names = [h["name"] for h in body["headers"]]
    assert names[:4] == ["pi", "tei", "enrollmentdate", "incidentdate"]
    assert names[-3:] == [f"{BIRTH}.{WEIGHT}", f"{IMMUNISATION}.{MEASLES}", SEX]
    females = [c for c in CHILDREN if c[4] == "Female"]
    expected = [
        [c[1], str(c[6]), "" if c[8] is None else ("1" if c[9] else "0"), "Female"]
        for c in sorted(females, key=lambda c: c[5])
    ]
    got = [[r[0], *r[-3:]] for r in body["rows"]]
    assert got == expected
    assert body["metaData"]["pager"]["total"] == len(females)


async def test_refusals(shared_client: httpx.AsyncClient, data: None) -> None:
    base = {"startDate": "2024-01-01", "endDate": "2024-12-31"}
    cases: list[tuple[str, dict[str, Any], str, str | None]] = [
        (EVENTS, {"dimension": f"ou:{ROOT}", "headers": "psi"}, "E2038", "headers"),
        (AGGREGATE, {"dimension": f"ou:{ROOT}", "limit": "3"}, "E2038", "limit"),
        (AGGREGATE, {"dimension": f"ou:{ROOT}", "skipMeta": "true"}, "E2038", "skipMeta"),
        (EVENTS, {"dimension": [f"ou:{ROOT}", "QQQQQQQQQQQ"]}, "E7224", "QQQQQQQQQQQ"),
        (EVENTS, {"dimension": [f"ou:{ROOT}", f"{WEIGHT}:XX:1"]}, "E2038", "XX"),
        (EVENTS, {"dimension": SEX}, "E7200", None),
        (ENROLLMENTS, {"dimension": [f"ou:{ROOT}", WEIGHT]}, "E7225", WEIGHT),
        ("/api/analytics/events/query/QQQQQQQQQQQ", {"dimension": f"ou:{ROOT}"}, "E7129", None),
        (AGGREGATE, {"dimension": f"ou:{ROOT}", "aggregationType": "SUM"}, "E7204", None),
    ]
    for path, params, code, named in cases:
        body = await get(shared_client, path, 409, **{**base, **params})
        assert body["errorCode"] == code, (params, body)
        assert body["httpStatusCode"] == 409 and body["status"] == "ERROR"
        if named:
            assert named in body["message"]
    body = await get(shared_client, EVENTS, 409, dimension=f"ou:{ROOT}")
    assert body["errorCode"] == "E7205"


async def test_counts_follow_deletions_and_moves(client: httpx.AsyncClient) -> None:
    """The month counts behind the aggregate stay current when events change or go."""
    await load(client)

    async def count(month: str) -> int:
        body = await get(
            client, AGGREGATE, stage=BIRTH, dimension=f"ou:{ROOT}", filter=f"pe:{month}"
        )
        return int(body["rows"][0][-1]) if body["rows"] else 0

    january = sum(1 for c in CHILDREN if c[5].startswith("2024-01"))
    assert await count("202401") == january
    moved = {
        "events": [
            {
                "event": birth_event(0),
                "programStage": BIRTH,
                "program": PROGRAM,
                "enrollment": CHILDREN[0][1],
                "orgUnit": CHILDREN[0][2],
                "occurredAt": "2024-05-02",
                "status": "COMPLETED",
                "dataValues": [{"dataElement": WEIGHT, "value": "3000"}],
            }
        ]
    }
    await sync_import(client, moved)
    assert await count("202401") == january - 1
    assert await count("202405") == 1
    await sync_import(client, {"events": [{"event": birth_event(1)}]}, importStrategy="DELETE")
    assert await count("202401") == january - 2


async def test_statuses_and_slim_pager(shared_client: httpx.AsyncClient, data: None) -> None:
    dated: dict[str, Any] = {
        "startDate": "2024-01-01",
        "endDate": "2024-12-31",
        "dimension": f"ou:{ROOT}",
    }
    active = await get(shared_client, EVENTS, eventStatus="ACTIVE", **dated)
    immunised = sorted(f"EvImmun{i:04d}" for i, c in enumerate(CHILDREN) if c[8] is not None)
    assert sorted(r[0] for r in active["rows"]) == immunised  # birth events are COMPLETED
    counted = await get(shared_client, AGGREGATE, eventStatus="COMPLETED", **dated)
    assert counted["rows"] == [[ROOT, str(len(CHILDREN))]]
    slim = await get(shared_client, EVENTS, totalPages="false", pageSize=3, **dated)
    assert slim["metaData"]["pager"] == {"page": 1, "pageSize": 3, "isLastPage": False}
    assert slim["height"] == 3 and len(slim["rows"]) == 3


async def test_many_units_share_one_range(
    shared_client: httpx.AsyncClient, data: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past a few org units the events are read by one path range, then kept exactly."""
    from services.sectoral_platform.event_analytics import reads

    params: dict[str, Any] = {
        "stage": BIRTH, "filter": ["pe:2024", f"{WEIGHT}:GE:2900"],
        "dimension": f"ou:{FACILITIES[0]};{FACILITIES[1]};{FACILITIES[3]}",
    }  # fmt: skip
    expected = Counter(c[2] for c in CHILDREN if c[6] >= 2900)
    for few in (8, 1):
        monkeypatch.setattr(reads, "FEW", few)
        body = await get(shared_client, AGGREGATE, **params)
        assert table(body) == {(ou,): str(n) for ou, n in expected.items()}


async def test_relative_periods_and_user_org_unit(
    shared_client: httpx.AsyncClient, data: None
) -> None:
    body = await get(
        shared_client, AGGREGATE, stage=BIRTH, relativePeriodDate="2024-06-15",
        dimension=["pe:LAST_6_MONTHS", "ou:USER_ORGUNIT"],
    )  # fmt: skip
    # the six months before June 2024: December 2023 to May 2024
    expected = Counter(c[5][:4] + c[5][5:7] for c in CHILDREN)
    assert table(body) == {(month, ROOT): str(n) for month, n in expected.items()}
    assert body["metaData"]["items"]["LAST_6_MONTHS"] == {"name": "Last 6 months"}
    assert len(body["metaData"]["dimensions"]["pe"]) == 6
