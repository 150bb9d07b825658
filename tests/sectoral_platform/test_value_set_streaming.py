"""JSON, CSV, DXF2 XML and ADX data value sets are imported as they arrive: past the whole-body
limit, in batches, and a malformed line mid-stream ends the import naming it (the batches before it
stay)."""

from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from services.kernel.limits import BULK_BODY_LIMIT
from services.sectoral_platform.aggregate.streamed import BATCH
from tests.sectoral_platform.conftest import ANC1, ANC4, BCG, FACILITIES, ROOT

pytestmark = pytest.mark.anyio

CSV = {"Content-Type": "application/csv"}
XML = {"Content-Type": "application/xml"}
ADX = {"Content-Type": "application/adx+xml"}
JSON = {"Content-Type": "application/json"}
HEADERS = {"csv": CSV, "xml": XML, "adx": ADX, "json": JSON}
PADDING = " " * 8191 + "\n"  # a blank line (or whitespace between XML elements or JSON values)
CSV_HEAD = "dataelement,period,orgunit,categoryoptioncombo,attributeoptioncombo,value\n"
XML_HEAD = '<dataValueSet xmlns="http://dhis2.org/schema/dxf/2.0">\n'
XML_TAIL = "</dataValueSet>\n"
JSON_HEAD = '{"dataSet": "QX4ZTUbOt3a", "dataValues": [\n'
HEAD = {
    "csv": CSV_HEAD,
    "xml": XML_HEAD,
    "adx": '<adx xmlns="urn:ihe:qrph:adx:2015">\n',
    "json": JSON_HEAD,
}
TAIL = {"xml": XML_TAIL, "adx": "</adx>\n", "json": "]}\n"}
BAD = {
    "csv": "a,b\n",
    "xml": "<dataValue dataElement='x' <\n",
    "adx": "<group orgUnit='x' <\n",
    "json": ',{"dataElement": oops}\n',
}


def rows(fmt: str = "csv") -> Iterator[str]:
    """10,800 distinct keys: more than one batch."""
    for year in range(1974, 2024):
        for month in range(1, 13):
            for de in (ANC1, ANC4, BCG):
                for ou in FACILITIES:
                    if fmt == "csv":
                        yield f"{de},{year}{month:02d},{ou},,,{month}\n"
                    elif fmt == "json":  # the comma first: the last value has none after it
                        yield (
                            ("" if year == 1974 and month == 1 and de == ANC1 and ou ==
                             FACILITIES[0] else ",")
                            + f'{{"dataElement": "{de}", "period": "{year}{month:02d}", '
                            f'"orgUnit": "{ou}", "value": "{month}"}}\n'
                        )  # fmt: skip
                    elif fmt == "adx":  # one group per value
                        yield (
                            f'<group orgUnit="{ou}" period="{year}-{month:02d}-01/P1M">'
                            f'<dataValue dataElement="{de}" value="{month}"/></group>\n'
                        )
                    else:
                        yield (
                            f'<dataValue dataElement="{de}" period="{year}{month:02d}" '
                            f'orgUnit="{ou}" value="{month}"/>\n'
                        )
    if fmt in TAIL:
        yield TAIL[fmt]


async def body(lines: Iterator[str], padding: int = 0, fmt: str = "csv") -> AsyncIterator[bytes]:
    yield HEAD[fmt].encode()
    chunk: list[str] = []
    for line in lines:
        chunk.append(line)
        if len(chunk) == 500:
            yield "".join(chunk).encode()
            chunk = []
            yield (PADDING * padding).encode()
    yield "".join(chunk).encode()


@pytest.mark.parametrize("fmt", ["csv", "xml", "adx", "json"])
async def test_a_body_larger_than_the_whole_body_limit_streams_in(
    client: httpx.AsyncClient, fmt: str
) -> None:
    values = list(rows(fmt))
    assert len(values) > BATCH
    # about 36 MiB in all, never held whole by the client or the server
    padding = BULK_BODY_LIMIT // 8192 // (len(values) // 500) + 1
    response = await client.post(
        "/api/dataValueSets",
        content=body(iter(values), padding, fmt),
        headers=HEADERS[fmt],
    )
    assert response.status_code == 200, response.text[:500]
    summary = response.json()["response"]
    assert summary["importCount"]["imported"] == len(values) - (fmt in TAIL)
    assert summary["status"] == "SUCCESS"


@pytest.mark.parametrize("fmt", ["csv", "xml", "adx", "json"])
async def test_a_malformed_line_mid_stream_is_named_and_the_batches_before_it_stay(
    client: httpx.AsyncClient, fmt: str
) -> None:
    values = list(rows(fmt))
    lines = [*values[:BATCH], *values[BATCH : BATCH + 5], BAD[fmt], *values[BATCH + 5 :]]
    response = await client.post(
        "/api/dataValueSets",
        content=body(iter(lines), fmt=fmt),
        headers=HEADERS[fmt],
    )
    assert response.status_code == 409, response.text[:500]
    summary = response.json()["response"]
    assert summary["status"] == "ERROR"
    bad_line = BATCH + 5 + 2  # after the header and the valid lines
    if fmt == "json":  # yajl names the text around the spot
        assert summary["description"].startswith("JSON parse error: lexical error")
        assert ',{"dataElement": oops}' in summary["description"]
        assert summary["description"].endswith(f"(`dataValues` index {BATCH + 5})")
    else:
        assert f"line {bad_line}:" in summary["description"]
    assert summary["conflicts"][0]["value"] == summary["description"]
    assert summary["importCount"]["imported"] == BATCH
    found = await client.get(
        "/api/dataValueSets",
        params={"dataSet": "QX4ZTUbOt3a", "orgUnit": ROOT, "children": "true",
                "startDate": "1974-01-01", "endDate": "2023-12-31"},
    )  # fmt: skip
    assert len(found.json()["dataValues"]) == BATCH


async def test_async_csv_is_read_whole_within_the_bulk_limit(client: httpx.AsyncClient) -> None:
    async def blank() -> AsyncIterator[bytes]:
        for _ in range(BULK_BODY_LIMIT // 8192 + 1):
            yield PADDING.encode()

    response = await client.post(
        "/api/dataValueSets",
        content=blank(),
        headers=CSV,
        params={"async": "true"},
    )
    assert response.status_code == 413, response.text[:300]
