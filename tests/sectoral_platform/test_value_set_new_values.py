"""A streamed import writes a batch of new values without looking them up first, until a batch
finds a value already stored (its COPY fails on the primary key and the batch is written again
after the lookup): the counts, the stored values and the district totals are those of looking
every batch up."""

from collections import defaultdict
from typing import Any

import httpx
import pytest

from services.sectoral_platform.aggregate import streamed
from tests.sectoral_platform.conftest import ANC1, ANC4, DISTRICT_OF, FACILITIES
from tests.sectoral_platform.test_data_values import stored
from tests.sectoral_platform.test_value_set_bulk_writes import analytics, post, row

pytestmark = pytest.mark.anyio


def _found(values: list[dict[str, Any]]) -> dict[tuple[str, str, str], str]:
    return {(v["dataElement"], v["period"], v["orgUnit"]): v["value"] for v in values}


async def test_a_batch_meeting_stored_values_after_new_ones_counts_and_totals_them_exactly(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(streamed, "BATCH", 3)
    f0, f1, f2, f3 = FACILITIES[:4]
    payload = [
        row(ANC1, "202401", f0, "1"), row(ANC1, "202401", f1, "2"), row(ANC1, "202401", f2, "3"),
        # batch 2: two new values, then the key of index 0 with another value
        row(ANC4, "202401", f0, "4"), row(ANC4, "202401", f1, "5"), row(ANC1, "202401", f0, "6"),
        # batch 3: new values, and an empty value deleting index 1's
        row(ANC1, "202402", f3, "7"), row(ANC4, "202402", f3, "8"), row(ANC1, "202401", f1, ""),
    ]  # fmt: skip
    assert await post(client, payload) == {"imported": 7, "updated": 1, "ignored": 0, "deleted": 1}
    expected = {
        (ANC1, "202401", f0): "6", (ANC1, "202401", f2): "3", (ANC4, "202401", f0): "4",
        (ANC4, "202401", f1): "5", (ANC1, "202402", f3): "7", (ANC4, "202402", f3): "8",
    }  # fmt: skip
    assert _found(await stored(client, period=["202401", "202402"])) == expected

    # sent again: the first batch's COPY fails on its first row, every value then counts updated
    again = await post(client, payload)
    assert again == {"imported": 1, "updated": 7, "ignored": 0, "deleted": 1}
    assert _found(await stored(client, period=["202401", "202402"])) == expected

    totals: dict[tuple[str, str, str], float] = defaultdict(float)
    for (de, pe, ou), v in expected.items():
        totals[(de, pe, DISTRICT_OF[ou])] += float(v)
    units = sorted({DISTRICT_OF[ou] for ou in (f0, f1, f2, f3)})
    assert await analytics(client, units) == dict(totals)


async def test_a_value_or_comment_copy_would_have_to_escape_is_stored_as_sent(
    client: httpx.AsyncClient,
) -> None:
    comments = ["tab\there", "back\\slash", "new\nline", "cr\rhere", "\\N", "plain, with comma"]
    payload = [
        {**row(ANC1, f"2024{m + 1:02d}", FACILITIES[0], str(m + 1)), "comment": comment}
        for m, comment in enumerate(comments)
    ]
    assert (await post(client, payload))["imported"] == len(comments)
    found = await stored(client, period=[f"2024{m + 1:02d}" for m in range(len(comments))])
    assert sorted((v["period"], v["comment"]) for v in found) == [
        (f"2024{m + 1:02d}", comment) for m, comment in enumerate(comments)
    ]
