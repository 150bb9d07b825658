"""A large log on PostgreSQL is verified in ranges, in parallel processes: the same verdict and
the same report as one pass, whether the fault lies inside a range or at its boundary, in
either of two interleaved chains. The ranges are made small here so that a few dozen records
span several."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import psycopg
import pytest

from services.interop_layer.main import create_app
from services.interop_layer.messagelog import ranges
from services.interop_layer.messagelog.verify import KnownHead, verify_database
from services.interop_layer.runtime import InteropRuntime
from services.kernel.runtime import runtime_of
from services.kernel.testing import serve_in_process
from tests.conftest import USE_POSTGRES
from tests.interop_layer.test_messagelog_writer import record

pytestmark = [
    pytest.mark.anyio,
    pytest.mark.skipif(not USE_POSTGRES, reason="ranges are read in parallel on PostgreSQL"),
]


async def two_chains(provider: Any, make_settings: Any, fakes: Any) -> str:
    """Replicas a and b writing in turn: 8 batches of 5 records of a, 8 of 3 of b (each batch's
    last record signed), so both chains cross every range."""
    exchanger, decider = fakes
    settings = make_settings(provider[1], message_log_signature_interval=0.0)
    apps = [
        create_app(settings.model_copy(update={"replica": name}), token_exchanger=exchanger,
                   decision_client=decider)
        for name in ("a", "b")
    ]  # fmt: skip
    async with serve_in_process(apps[0]), serve_in_process(apps[1]):
        writers = [runtime_of(app, InteropRuntime).message_log for app in apps]
        n = 0
        for _ in range(8):
            for writer, size in zip(writers, (5, 3), strict=True):
                for _ in range(size):
                    writer.submit(record(n, started_at=datetime.now(UTC)))
                    n += 1
                await writer.flush()
    return str(settings.database())


def execute(url: str, sql: str) -> Any:
    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://", 1)) as connection:
        cursor = connection.execute(sql)
        return cursor.fetchall() if cursor.description else cursor.rowcount


def cuts(url: str) -> list[tuple[int, int]]:
    [(low, high)] = execute(url, "SELECT min(seq), max(seq) FROM im_log_record")
    return ranges.ranges(low, high, 2)


@pytest.fixture
def small_ranges(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ranges, "PARALLEL_MIN", 10)


def both(url: str, **options: Any) -> Any:
    """The report of the ranges, checked against the one-pass report."""
    ranged = verify_database(url, workers=2, **options)
    assert ranged.model_dump() == verify_database(url, workers=1, **options).model_dump()
    return ranged


async def test_an_intact_log_verifies_in_ranges(provider, make_settings, fakes, small_ranges):
    url = await two_chains(provider, make_settings, fakes)
    assert len(cuts(url)) == 8
    report = both(url)
    assert report.ok is True, report.reason
    assert report.checked == 64
    assert {c.replica: (c.checked, c.head_position) for c in report.chains} == {
        "a": (40, 40),
        "b": (24, 24),
    }


def second(url: str) -> int:
    """A record in the middle of the second range."""
    low, high = cuts(url)[1]
    return (low + high) // 2


TAMPERING: dict[str, tuple[Callable[[str], str], str]] = {
    "a JSON column inside the second range": (
        lambda url: (
            f"UPDATE im_log_record SET request_fields = '[\"x\"]' WHERE seq = {second(url)}"
        ),
        "content does not match its hash",
    ),
    "a status inside the second range": (
        lambda url: f"UPDATE im_log_record SET status_code = 404 WHERE seq = {second(url)}",
        "content does not match its hash",
    ),
    "the first record of the third range deleted": (
        lambda url: f"DELETE FROM im_log_record WHERE seq = {cuts(url)[2][0]}",
        "are missing before this one",
    ),
    "the link into the third range": (
        lambda url: (
            f"UPDATE im_log_record SET prev_hash = repeat('0', 64) WHERE seq = {cuts(url)[2][0]}"
        ),
        "does not link to the previous record",
    ),
    "a record signature in the fourth range": (
        lambda url: (
            "UPDATE im_log_record SET signature = 'AAAA' WHERE seq = (SELECT min(seq) "
            f"FROM im_log_record WHERE signature <> '' AND seq >= {cuts(url)[3][0]})"
        ),
        "signature is invalid",
    ),
}


@pytest.mark.parametrize("tampering", TAMPERING)
async def test_tampering_in_any_range_is_named_as_in_one_pass(
    provider, make_settings, fakes, small_ranges, tampering
):
    url = await two_chains(provider, make_settings, fakes)
    change, reason = TAMPERING[tampering]
    assert execute(url, change(url)) == 1
    report = both(url)
    assert report.ok is False
    assert reason in (report.reason or "")
    assert report.first_bad_seq is not None and report.first_bad_seq > cuts(url)[0][1]
    assert report.first_bad_replica in ("a", "b")


async def test_a_known_head_rewritten_in_a_later_range_is_found(
    provider, make_settings, fakes, small_ranges
):
    url = await two_chains(provider, make_settings, fakes)
    [(position,)] = execute(url, f"SELECT position FROM im_log_record WHERE seq = {second(url)}")
    [(replica,)] = execute(url, f"SELECT replica FROM im_log_record WHERE seq = {second(url)}")
    known = [KnownHead(position, "f" * 64, "head exported before", replica)]
    report = both(url, known=known)
    assert report.ok is False and report.first_bad_seq == second(url)
    assert "differs from the head exported before" in (report.reason or "")
