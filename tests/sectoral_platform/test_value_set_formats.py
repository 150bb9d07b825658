"""`/api/dataValueSets` as CSV, DXF2 XML and ADX: round trips, DHIS2's documented samples,
malformed payloads (line named, nothing written), id schemes, gzip, incremental export."""

import asyncio
import gzip
import re
import time
from typing import Any

import httpx
import pytest

from services.sectoral_platform.aggregate.formats import write_csv
from tests.sectoral_platform.conftest import ANC1, ANC4, BCG, COC, DATA_SET, FACILITIES, ROOT

pytestmark = pytest.mark.anyio
FAC, FAC2 = FACILITIES[0], FACILITIES[1]
CSV = {"Content-Type": "application/csv"}
XML = {"Content-Type": "application/xml"}
ADX = {"Content-Type": "application/adx+xml"}
ACCEPT = {"csv": "text/csv", "xml": "application/xml", "adx": "application/adx+xml"}
EXPORTED = re.compile(r'exported="[^"]*"')
ORIGINAL = [
    {"dataElement": ANC1, "period": "202401", "orgUnit": FAC, "value": "12"},
    {"dataElement": ANC4, "period": "202401", "orgUnit": FAC, "value": "7", "comment": 'a "b", c'},
    {"dataElement": BCG, "period": "202402", "orgUnit": FAC2, "value": "3", "followup": True},
]
SELECTION = {
    "dataSet": DATA_SET,
    "orgUnit": ROOT,
    "children": "true",
    "startDate": "2024-01-01",
    "endDate": "2024-12-31",
}


def essence(values: list[dict[str, Any]], followup: bool = True) -> list[tuple[Any, ...]]:
    """ADX has no follow-up flag: every other property survives every format."""
    keys = ("dataElement", "period", "orgUnit", "categoryOptionCombo", "value", "comment")
    return sorted(
        (*(v.get(k) for k in keys), followup and bool(v.get("followup"))) for v in values
    )  # fmt: skip


async def exported(client: httpx.AsyncClient, **extra: str) -> list[dict[str, Any]]:
    response = await client.get("/api/dataValueSets", params={**SELECTION, **extra})
    assert response.status_code == 200, response.text
    values: list[dict[str, Any]] = response.json()["dataValues"]
    return values


async def post(
    client: httpx.AsyncClient, content: bytes | str, headers: dict[str, str], **params: str
) -> httpx.Response:
    return await client.post("/api/dataValueSets", content=content, headers=headers, params=params)


@pytest.mark.parametrize("fmt", ["csv", "xml", "adx"])
async def test_round_trip_keeps_every_value(client: httpx.AsyncClient, fmt: str) -> None:
    first = await client.post("/api/dataValueSets", json={"dataValues": ORIGINAL})
    assert first.status_code == 200, first.text
    before = await exported(client)
    assert len(before) == 3
    suffixed = await client.get(f"/api/dataValueSets.{fmt}", params=SELECTION)
    accepted = await client.get(
        "/api/dataValueSets",
        params=SELECTION,
        headers={
            "Accept": {"csv": "text/csv", "xml": "application/xml", "adx": ADX["Content-Type"]}[fmt]
        },
    )
    assert suffixed.status_code == 200
    assert EXPORTED.sub("", suffixed.text) == EXPORTED.sub("", accepted.text)
    gone = await client.post(
        "/api/dataValueSets", params={"importStrategy": "DELETE"}, json={"dataValues": before}
    )
    assert gone.json()["response"]["importCount"]["deleted"] == 3
    assert await exported(client) == []
    headers = {"csv": CSV, "xml": XML, "adx": ADX}[fmt]
    again = await post(client, suffixed.content, headers)
    assert again.status_code == 200, again.text
    assert again.json()["response"]["importCount"]["imported"] == 3
    keeps = fmt != "adx"
    assert essence(await exported(client), keeps) == essence(before, keeps)


async def test_dhis2_documented_samples(client: httpx.AsyncClient) -> None:
    # the CSV sample of the DHIS2 Web API guide (header, quoted cells, empty option combo)
    csv_sample = (
        '"dataelement","period","orgunit","catoptcombo","attroptcombo","value","storedby",'
        '"timestamp","comment","followup"\n'
        f'"{ANC1}","202403","{FAC}","{COC}",,"7","bombali","2010-04-17",,"false"\n'
        f'"{ANC4}","202403","{FAC}",,,"10","bombali","2010-04-17","a note","true"\n'
    )
    response = await post(client, csv_sample, CSV)
    assert response.status_code == 200, response.text
    assert response.json()["response"]["importCount"]["imported"] == 2
    # the DXF2 sample: set-level dataSet, period and orgUnit, values carrying the rest
    xml_sample = f"""<?xml version="1.0" encoding="UTF-8"?>
<dataValueSet xmlns="http://dhis2.org/schema/dxf/2.0" dataSet="{DATA_SET}"
  completeDate="2024-05-10" period="202404" orgUnit="{FAC}">
  <dataValue dataElement="{ANC1}" value="1"/>
  <dataValue dataElement="{ANC4}" value="2" comment="comment2"/>
  <dataValue dataElement="{BCG}" categoryOptionCombo="{COC}" value="3"/>
</dataValueSet>"""
    response = await post(client, xml_sample, XML)
    assert response.json()["response"]["importCount"]["imported"] == 3, response.text
    # the ADX sample shape, by code: data set, org unit and data elements named by codes
    adx_sample = """<?xml version="1.0" encoding="UTF-8"?>
<adx xmlns="urn:ihe:qrph:adx:2015" exported="2024-06-02T19:30:00Z">
  <group orgUnit="XD-R01-D01-F001" period="2024-05-01/P1M" dataSet="HMIS_MONTHLY">
    <dataValue dataElement="HS_ANC1" value="32"/>
    <dataValue dataElement="HS_ANC4" value="20"><annotation>checked</annotation></dataValue>
  </group>
</adx>"""
    response = await post(client, adx_sample, ADX, idScheme="CODE")
    assert response.json()["response"]["importCount"]["imported"] == 2, response.text
    values = await exported(client)
    assert {(v["period"], v["value"], v.get("comment")) for v in values} >= {
        ("202403", "10", "a note"),
        ("202404", "2", "comment2"),
        ("202405", "20", "checked"),
    }
    coded = await client.get("/api/dataValueSets.adx", params={**SELECTION, "idScheme": "CODE"})
    assert 'dataElement="HS_ANC1"' in coded.text and 'period="2024-05-01/P1M"' in coded.text
    assert 'orgUnit="XD-R01-D01-F001"' in coded.text and 'dataSet="HMIS_MONTHLY"' in coded.text
    named = await client.get(
        "/api/dataValueSets.csv", params={**SELECTION, "dataElementIdScheme": "NAME"}
    )
    assert named.text.splitlines()[0].startswith("dataelement,period,orgunit,categoryoptioncombo")
    assert "ANC 1st visit,202403," in named.text


@pytest.mark.parametrize(
    ("headers", "payload", "named"),
    [
        (CSV, f"h\n{ANC1},202401,{FAC},,,1\n{ANC4},202401\n", "line 3"),
        (CSV, f'h\n{ANC1},202401,{FAC},,,"1\n', "line 2"),
        (XML, f'<dataValueSet>\n<dataValue dataElement="{ANC1}">\n</dataValueSet>', "line 3"),
        (XML, f'<dataValueSet>\n<value dataElement="{ANC1}"/>\n</dataValueSet>', "`value`"),
        (ADX, '<adx>\n<group orgUnit="x" period="2024-01-01/P5M"/>\n</adx>', "line 2"),
        (ADX, '<adx>\n<group period="2024-01-01/P1M"/>\n</adx>', "`orgUnit`"),
        (XML, '<!DOCTYPE d [<!ENTITY a "aaaa">]>\n<dataValueSet/>', "DOCTYPE"),
        (ADX, '<!DOCTYPE a [<!ENTITY x SYSTEM "file:///etc/passwd">]>\n<adx>&x;</adx>', "DOCTYPE"),
    ],
)  # fmt: skip
async def test_malformed_payloads_name_the_place_and_write_nothing(
    client: httpx.AsyncClient, headers: dict[str, str], payload: str, named: str
) -> None:
    response = await post(client, payload, headers)
    assert response.status_code == 409, response.text
    body = response.json()
    assert body["status"] == "ERROR" and body["response"]["responseType"] == "ImportSummary"
    assert named in body["response"]["description"]
    assert await exported(client) == []


async def test_adx_period_not_of_the_data_set_type_is_a_conflict_for_that_group(
    client: httpx.AsyncClient,
) -> None:
    payload = f"""<adx xmlns="urn:ihe:qrph:adx:2015">
  <group orgUnit="{FAC}" period="2024-01-01/P3M" dataSet="{DATA_SET}">
    <dataValue dataElement="{ANC1}" value="5"/>
  </group>
  <group orgUnit="{FAC}" period="2024-02-01/P1M" dataSet="{DATA_SET}">
    <dataValue dataElement="{ANC1}" value="6"/>
  </group>
</adx>"""
    response = await post(client, payload, ADX)
    summary = response.json()["response"]
    assert summary["importCount"]["imported"] == 1 and summary["conflicts"], summary
    assert summary["conflicts"][0]["indexes"] == [0]
    assert [(v["period"], v["value"]) for v in await exported(client)] == [("202402", "6")]


async def test_gzip_in_and_out_and_dry_run_for_every_format(client: httpx.AsyncClient) -> None:
    rows = f"{ANC1},202401,{FAC},,,4\n"
    dry = await post(client, "h\n" + rows, CSV, dryRun="true")
    assert dry.json()["response"]["importCount"]["imported"] == 1
    assert await exported(client) == []
    packed = gzip.compress(rows.encode())
    response = await post(
        client, packed, {**CSV, "Content-Encoding": "gzip"}, firstRowIsHeader="false"
    )
    assert response.json()["response"]["importCount"]["imported"] == 1, response.text
    out = await client.get("/api/dataValueSets.csv.gz", params=SELECTION)
    assert gzip.decompress(out.content).decode().splitlines()[1].startswith(f"{ANC1},202401,")
    updated = await post(
        client, rows.replace(",4", ",5"), CSV, firstRowIsHeader="false", importStrategy="CREATE"
    )
    assert updated.json()["response"]["importCount"]["ignored"] == 1


async def test_incremental_export_by_last_updated(client: httpx.AsyncClient) -> None:
    await client.post("/api/dataValueSets", json={"dataValues": ORIGINAL[:1]})
    selection = {k: v for k, v in SELECTION.items() if k not in ("startDate", "endDate")}
    recent = await client.get(
        "/api/dataValueSets", params={**selection, "lastUpdatedDuration": "1d"}
    )
    assert [v["value"] for v in recent.json()["dataValues"]] == ["12"]
    future = await client.get(
        "/api/dataValueSets", params={**selection, "lastUpdated": "2999-01-01"}
    )
    assert future.json()["dataValues"] == []
    bad = await client.get("/api/dataValueSets", params={**selection, "lastUpdatedDuration": "x"})
    assert bad.status_code == 409 and "lastUpdatedDuration" in bad.json()["message"]
    scheme = await client.get("/api/dataValueSets", params={**SELECTION, "idScheme": "FOO"})
    assert scheme.status_code == 409 and "idScheme" in scheme.json()["message"]


async def test_async_import_reports_through_the_task_endpoints(client: httpx.AsyncClient) -> None:
    response = await post(
        client, f"{ANC1},202401,{FAC},,,9\n", CSV, firstRowIsHeader="false", **{"async": "true"}
    )
    assert response.status_code == 200, response.text
    job = response.json()["response"]
    assert job["jobType"] == "DATAVALUE_IMPORT"
    deadline = time.monotonic() + 10
    while True:
        notes = (await client.get(job["relativeNotifierEndpoint"])).json()
        if notes[0]["completed"]:
            break
        assert time.monotonic() < deadline, notes
        await asyncio.sleep(0.01)
    summary = await client.get(f"/api/system/taskSummaries/DATAVALUE_IMPORT/{job['id']}")
    assert summary.json()["importCount"]["imported"] == 1
    assert [v["value"] for v in await exported(client)] == ["9"]
    unknown = await client.get("/api/system/taskSummaries/DATAVALUE_IMPORT/abcdefghijk")
    assert unknown.status_code == 404


async def test_a_gzip_bomb_is_refused_past_the_bulk_limit(client: httpx.AsyncClient) -> None:
    # `async=true` reads the body whole (otherwise it streams: test_value_set_streaming.py)
    bomb = gzip.compress(b"\n" * (33 * 1024 * 1024))
    headers = {"Content-Type": "application/json", "Content-Encoding": "gzip"}
    response = await post(client, bomb, headers, **{"async": "true"})
    assert response.status_code == 413, response.text
    assert await exported(client) == []


async def test_the_csv_export_by_uid_writes_what_the_value_writer_writes(
    client: httpx.AsyncClient,
) -> None:
    """The UID export's rows come straight from the database in CSV's columns, in the key's
    order; a scheme's export builds each value first. Both write the same lines (quotes,
    follow-up, empty cells)."""
    values = [  # by period, ANC1's values would be apart
        *ORIGINAL,
        {"dataElement": ANC4, "period": "202402", "orgUnit": FAC, "value": "4"},
        {"dataElement": ANC1, "period": "202403", "orgUnit": FAC, "value": "5"},
    ]
    first = await client.post("/api/dataValueSets", json={"dataValues": values})
    assert first.status_code == 200, first.text
    direct = await client.get("/api/dataValueSets.csv", params=SELECTION)
    assert direct.status_code == 200, direct.text
    from_values = "".join(write_csv(await exported(client))).splitlines()
    lines = direct.text.splitlines()
    assert lines[0] == from_values[0] and sorted(lines[1:]) == sorted(from_values[1:])
    # in the key's order: each element's lines together (whatever the database's collation)
    elements = [line.split(",")[0] for line in lines[1:]]
    runs = [de for i, de in enumerate(elements) if i == 0 or elements[i - 1] != de]
    assert len(runs) == len(set(runs)) == 3
    assert direct.text.count("\n") == 1 + len(values)
    assert '"a ""b"", c"' in direct.text and ",true," in direct.text
