"""DHIS2 capture scope and data-write authorities on every write path of the sectoral platform:
each format and the async path of a data value set import, completeness registrations, and the
superuser-only operations, refused for the seeded facility clerk, changing nothing.

(`test_dhis2_scope.py` holds the reads and the single-value and tracker writes.)"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import orjson
import pytest

from services.kernel.testing import serve_in_process
from services.sectoral_platform.main import create_app
from services.sectoral_platform.settings import SectoralSettings
from tests.sectoral_platform.conftest import ANC4, COC, DATA_SET, QUIET
from tests.security.dhis2_scope_support import ADMIN, CLERK, FAR, OWN, PERIOD
from tests.support.polling import until

pytestmark = pytest.mark.anyio


@pytest.fixture(scope="module")
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="module")
def write_settings(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SectoralSettings]:
    from tests import conftest as root

    tmp = tmp_path_factory.mktemp("dhis2writes")
    with root.scratch_database("writes", tmp / "writes.db") as url:
        yield SectoralSettings(database_url=url, data_dir=tmp / "data", log_format="text", **QUIET)


@pytest.fixture(scope="module")
async def client(write_settings: SectoralSettings) -> AsyncIterator[httpx.AsyncClient]:
    async with serve_in_process(create_app(write_settings)) as http:
        http.auth = ADMIN
        yield http


async def _stored(client: httpx.AsyncClient, org_unit: str) -> list[dict[str, Any]]:
    query = {"dataSet": DATA_SET, "period": PERIOD, "orgUnit": org_unit}
    answer = await client.get("/api/dataValueSets", params=query, auth=ADMIN)
    assert answer.status_code == 200, answer.text
    values: list[dict[str, Any]] = answer.json().get("dataValues", [])
    return values


def _bodies(org_unit: str, value: str) -> dict[str, tuple[str, bytes]]:
    """One ANC4 value for `org_unit` in every format the import reads."""
    csv = f"{ANC4},{PERIOD},{org_unit},{COC},,{value}\n"
    xml = (
        '<dataValueSet xmlns="http://dhis2.org/schema/dxf/2.0">'
        f'<dataValue dataElement="{ANC4}" period="{PERIOD}" orgUnit="{org_unit}" '
        f'categoryOptionCombo="{COC}" value="{value}"/></dataValueSet>'
    )
    adx = (
        '<adx xmlns="urn:ihe:qrph:adx:2015">'
        f'<group dataSet="{DATA_SET}" orgUnit="{org_unit}" period="2024-01-01/P1M">'
        f'<dataValue dataElement="{ANC4}" value="{value}"/></group></adx>'
    )
    json_body = {"dataValues": [{"dataElement": ANC4, "period": PERIOD, "orgUnit": org_unit,
                                 "categoryOptionCombo": COC, "value": value}]}  # fmt: skip
    return {
        "application/json": ("json", orjson.dumps(json_body)),
        "application/csv": ("csv", csv.encode()),
        "application/xml": ("xml", xml.encode()),
        "application/adx+xml": ("adx", adx.encode()),
    }


async def test_every_value_set_format_keeps_to_the_capture_scope(
    client: httpx.AsyncClient,
) -> None:
    inside = await client.post(
        "/api/dataValueSets",
        content=_bodies(OWN, "5")["application/json"][1],
        headers={"Content-Type": "application/json"},
        auth=CLERK,
    )
    assert inside.status_code == 200, inside.text  # the clerk writes its own facility
    for media, (name, body) in _bodies(FAR, "7").items():
        refused = await client.post(
            "/api/dataValueSets",
            content=body,
            headers={"Content-Type": media},
            params={"firstRowIsHeader": "false"} if name == "csv" else {},
            auth=CLERK,
        )
        assert refused.status_code == 409, (name, refused.text)
        summary = refused.json()["response"]
        assert summary["importCount"]["imported"] == 0, name
        codes = {c.get("errorCode") for c in summary["conflicts"]}
        assert codes == {"E7620"}, (name, summary["conflicts"])
    assert await _stored(client, FAR) == []


async def test_an_async_import_keeps_to_the_capture_scope(client: httpx.AsyncClient) -> None:
    started = await client.post(
        "/api/dataValueSets",
        params={"async": "true"},
        content=_bodies(FAR, "8")["application/json"][1],
        headers={"Content-Type": "application/json"},
        auth=CLERK,
    )
    assert started.status_code == 200, started.text
    job = started.json()["response"]

    async def finished() -> bool:
        notes = (await client.get(job["relativeNotifierEndpoint"], auth=CLERK)).json()
        return bool(notes) and bool(notes[0]["completed"])

    await until(finished, "the async import")
    url = f"/api/system/taskSummaries/DATAVALUE_IMPORT/{job['id']}"
    summary = (await client.get(url, auth=CLERK)).json()
    assert summary["importCount"]["imported"] == 0
    assert {c.get("errorCode") for c in summary["conflicts"]} == {"E7620"}
    assert await _stored(client, FAR) == []


async def test_completeness_writes_keep_to_the_capture_scope(client: httpx.AsyncClient) -> None:
    item = {"dataSet": DATA_SET, "period": PERIOD, "organisationUnit": FAR}
    admin = await client.post(
        "/api/completeDataSetRegistrations", json={"completeDataSetRegistrations": [item]}
    )
    assert admin.status_code == 200, admin.text
    again = {**item, "completed": False}
    refused = await client.post(
        "/api/completeDataSetRegistrations",
        json={"completeDataSetRegistrations": [again]},
        auth=CLERK,
    )
    assert refused.status_code == 409, refused.text
    assert refused.json()["response"]["importCount"]["updated"] == 0
    deleted = await client.delete(
        "/api/completeDataSetRegistrations",
        params={"ds": DATA_SET, "pe": PERIOD, "ou": FAR},
        auth=CLERK,
    )
    assert deleted.status_code in (403, 409), deleted.text
    assert deleted.json()["status"] == "ERROR"
    kept = await client.get(
        "/api/completeDataSetRegistrations",
        params={"dataSet": DATA_SET, "period": PERIOD, "orgUnit": FAR},
    )
    [registration] = kept.json()["completeDataSetRegistrations"]
    assert registration["completed"] is True


async def test_superuser_operations_are_refused_to_a_clerk(
    client: httpx.AsyncClient,
) -> None:
    for method, url in (
        ("POST", "/api/tracker/aggregate"),
        ("POST", "/api/facilityRegistry/sync"),
        ("POST", "/api/events/outbox/drain"),
        ("GET", "/api/events/outbox"),
    ):
        refused = await client.request(method, url, auth=CLERK)
        assert refused.status_code == 403, (url, refused.text)
        assert refused.json()["status"] == "ERROR"


async def _user(client: httpx.AsyncClient, name: str, authorities: list[str]) -> tuple[str, str]:
    role = await client.post("/api/userRoles", json={"name": name, "authorities": authorities})
    assert role.status_code == 201, role.text
    user = {
        "username": name, "firstName": name, "surname": "Writer", "password": "Secret123!",
        "userRoles": [{"id": role.json()["response"]["uid"]}], "organisationUnits": [{"id": OWN}],
    }  # fmt: skip
    assert (await client.post("/api/users", json=user)).status_code == 201
    return name, "Secret123!"


async def test_data_writes_and_deletes_need_the_data_write_authority(
    client: httpx.AsyncClient,
) -> None:
    """DHIS2 2.41+ guards `DELETE /api/dataValues` with `F_DATAVALUE_ADD`, as every data write;
    a user with the capture scope but without it reads and changes nothing."""
    writer = await _user(client, "writeronly", ["F_DATAVALUE_ADD"])
    reader = await _user(client, "readeronly", [])
    key = {"de": ANC4, "pe": PERIOD, "ou": OWN, "co": COC}
    assert (await client.post("/api/dataValues", params={**key, "value": "4"})).status_code == 201
    for method, url, params in (
        ("DELETE", "/api/dataValues", key),
        ("POST", "/api/dataValues", {**key, "value": "6"}),
        ("DELETE", "/api/completeDataSetRegistrations", {"ds": DATA_SET, "pe": PERIOD, "ou": OWN}),
    ):
        refused = await client.request(method, url, params=params, auth=reader)
        assert refused.status_code == 403, (method, url, refused.text)
    unread = await client.post(
        "/api/dataValueSets", content=b"{not json", headers={"Content-Type": "application/json"},
        auth=reader,
    )  # fmt: skip
    assert unread.status_code == 403  # the authority is checked before the body is read
    assert (await client.get("/api/dataValues", params=key)).json() == ["4"]
    deleted = await client.delete("/api/dataValues", params=key, auth=writer)
    assert deleted.status_code == 204, deleted.text
    assert (await client.get("/api/dataValues", params=key)).status_code == 404
