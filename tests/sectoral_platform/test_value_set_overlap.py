"""A streamed import writes batch k while it checks batch k+1 (PostgreSQL): the summary and the
stored values are those of writing each batch before reading the next."""

import os
from typing import Any

import httpx
import pytest

from services.sectoral_platform.aggregate import overlap, streamed
from services.sectoral_platform.aggregate.summary import ImportOptions, ImportSummary
from tests.sectoral_platform.conftest import ANC1, ANC4, BCG, FACILITIES

pytestmark = pytest.mark.anyio

F0 = FACILITIES[0]
DATA_SET = "QX4ZTUbOt3a"


def value(de: str, pe: str, v: str, ou: str = F0) -> dict[str, str]:
    return {"dataElement": de, "period": pe, "orgUnit": ou, "value": v}


# batches of 3: a key written in one batch is updated, left and deleted then written again in
# later ones, and the conflicts are in the second and third batches
PAYLOAD = [
    value(ANC1, "202401", "7"),  # updates the seeded value
    value(ANC1, "202402", "1"),
    value(ANC4, "202401", "2"),
    value(ANC1, "202402", "3"),  # batch 2: the key of index 1, updated
    value(BCG, "202401", "4", ou="nOrgUnit001"),  # conflict: no such org unit
    value(ANC4, "202401", ""),  # deletes index 2's value
    value(ANC1, "202402", "3"),  # batch 3: unchanged, counted updated
    value(ANC4, "202401", "9"),  # written again after its deletion
    value(ANC1, "202403", "x"),  # conflict: not a number
]
STORED = {("202401", ANC1): "7", ("202402", ANC1): "3", ("202401", ANC4): "9"}


class Counted(overlap.Overlapped):
    batches = 0

    def submit(self, write: overlap.Write, offset: int) -> None:
        Counted.batches += 1
        super().submit(write, offset)


async def _import(client: httpx.AsyncClient, values: list[dict[str, str]]) -> dict[str, Any]:
    response = await client.post(
        "/api/dataValueSets", json={"dataSet": DATA_SET, "dataValues": values}
    )
    assert response.status_code in (200, 409), response.text
    summary: dict[str, Any] = response.json()["response"]
    return summary


async def _stored(client: httpx.AsyncClient) -> dict[tuple[str, str], str]:
    found = await client.get(
        "/api/dataValueSets",
        params={"dataSet": DATA_SET, "orgUnit": F0, "startDate": "2024-01-01",
                "endDate": "2024-12-31"},
    )  # fmt: skip
    assert found.status_code == 200, found.text
    return {(v["period"], v["dataElement"]): v["value"] for v in found.json()["dataValues"]}


async def _seeded_run(client: httpx.AsyncClient) -> tuple[dict[str, Any], dict[Any, str]]:
    """The payload imported over one stored value; the values it leaves cleared after."""
    await _import(client, [value(ANC1, "202401", "5")])
    summary = await _import(client, PAYLOAD)
    stored = await _stored(client)
    keys = [value(de, pe, "") for pe, de in stored]
    cleared = await client.post(
        "/api/dataValueSets", params={"importStrategy": "DELETE"},
        json={"dataSet": DATA_SET, "dataValues": keys},
    )  # fmt: skip
    assert cleared.json()["response"]["importCount"]["deleted"] == len(keys)
    assert await _stored(client) == {}
    return summary, stored


async def test_batches_written_while_the_next_is_checked_sum_up_as_one_after_another(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(streamed, "BATCH", 3)
    monkeypatch.setattr(streamed, "Overlapped", overlap.Inline)
    sequential, sequential_stored = await _seeded_run(client)
    monkeypatch.setattr(streamed, "Overlapped", Counted)
    Counted.batches = 0
    overlapped, overlapped_stored = await _seeded_run(client)

    on_postgres = os.environ.get("DPI_TEST_DB") == "postgres"
    # the seed, the payload's three batches, the clearing; SQLite writes each batch at once
    assert Counted.batches == (5 if on_postgres else 0)
    assert overlapped == sequential
    assert overlapped_stored == sequential_stored == STORED
    assert overlapped["importCount"] == {"imported": 3, "updated": 3, "ignored": 2, "deleted": 1}
    assert overlapped["status"] == "WARNING"
    assert [c["indexes"] for c in overlapped["conflicts"]] == [[4], [8]]
    assert overlapped["rejectedIndexes"] == [4, 8]


def _summary(imported: int) -> ImportSummary:
    summary = ImportSummary(options=ImportOptions())
    summary.count.imported = imported
    return summary


def test_after_a_failed_write_no_later_batch_is_written_and_the_failure_is_raised() -> None:
    written: list[int] = []

    def write(n: int) -> overlap.Write:
        def run() -> ImportSummary:
            if n == 2:
                raise RuntimeError("the server went away")
            written.append(n)
            return _summary(n)

        return run

    writer = overlap.Overlapped()
    with pytest.raises(RuntimeError, match="went away"):
        for n in range(1, 6):
            writer.submit(write(n), n)
        writer.close()
    with pytest.raises(RuntimeError):
        writer.close()
    assert written == [1]


def test_every_batch_handed_over_is_written_in_order_before_close_returns() -> None:
    written: list[int] = []

    def write(n: int) -> overlap.Write:
        def run() -> ImportSummary:
            written.append(n)
            return _summary(n)

        return run

    writer = overlap.Overlapped()
    for n in range(1, 6):
        writer.submit(write(n), n)
    total = writer.close()
    assert written == [1, 2, 3, 4, 5]
    assert total is not None and total.count.imported == 15
