"""The kernel's UTC helpers and each service's wire format, byte for byte."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from services.kernel.time import (
    as_utc,
    dhis2_timestamp,
    iso_micros_z,
    iso_millis_z,
    iso_offset,
    iso_z,
    naive_utc,
    sqlite_datetime,
    utc_micros,
    utcnow,
)

PLUS_TWO = timezone(timedelta(hours=2))
MOMENT = datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)
WHOLE = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


def test_utcnow_is_aware_utc() -> None:
    before = datetime.now(UTC)
    now = utcnow()
    assert now.tzinfo is UTC
    assert before <= now <= datetime.now(UTC)


def test_as_utc_takes_naive_as_utc_and_converts_aware() -> None:
    assert as_utc(datetime(2026, 1, 2, 3, 4, 5)) == WHOLE
    assert as_utc(datetime(2026, 1, 2, 3, 4, 5)).tzinfo is UTC
    shifted = as_utc(datetime(2026, 1, 2, 5, 4, 5, tzinfo=PLUS_TWO))
    assert shifted == WHOLE and shifted.tzinfo is UTC


def test_naive_utc_drops_the_zone_after_converting() -> None:
    assert naive_utc(datetime(2026, 1, 2, 5, 4, 5, tzinfo=PLUS_TWO)) == datetime(
        2026, 1, 2, 3, 4, 5
    )
    assert naive_utc().tzinfo is None


def test_consent_and_mosip_millis_with_z() -> None:
    assert iso_millis_z(MOMENT) == "2026-01-02T03:04:05.678Z"
    assert iso_millis_z(WHOLE) == "2026-01-02T03:04:05.000Z"
    assert iso_millis_z(MOMENT.astimezone(PLUS_TWO)) == "2026-01-02T03:04:05.678Z"
    assert iso_millis_z(None) is None


def test_registries_always_microseconds_with_z() -> None:
    assert iso_micros_z(MOMENT) == "2026-01-02T03:04:05.678901Z"
    assert iso_micros_z(WHOLE) == "2026-01-02T03:04:05.000000Z"
    assert iso_micros_z(datetime(2026, 1, 2, 3, 4, 5)) == "2026-01-02T03:04:05.000000Z"


def test_id_registry_records_z_with_microseconds_only_when_present() -> None:
    assert iso_z(MOMENT) == "2026-01-02T03:04:05.678901Z"
    assert iso_z(WHOLE) == "2026-01-02T03:04:05Z"


def test_mediator_offset_form() -> None:
    assert iso_offset(MOMENT) == "2026-01-02T03:04:05.678901+00:00"
    assert iso_offset(WHOLE.astimezone(PLUS_TWO)) == "2026-01-02T03:04:05+00:00"
    assert iso_offset(None) is None


def test_dhis2_zone_less_millis() -> None:
    assert dhis2_timestamp(datetime(2019, 8, 19)) == "2019-08-19T00:00:00.000"
    assert dhis2_timestamp(MOMENT) == "2026-01-02T03:04:05.678"
    now = dhis2_timestamp()
    assert len(now) == 23 and now[10] == "T" and not now.endswith("Z")


def test_sqlite_storage_format() -> None:
    assert sqlite_datetime(MOMENT.astimezone(PLUS_TWO)) == "2026-01-02 03:04:05.678901"
    assert sqlite_datetime(datetime(999, 1, 2, tzinfo=UTC)) == "0999-01-02 00:00:00.000000"


def test_utc_micros_writes_what_isoformat_writes() -> None:
    samples = [
        MOMENT,
        WHOLE,
        MOMENT.astimezone(PLUS_TWO),
        datetime(2026, 1, 2, 3, 4, 5, 7),  # naive: taken as UTC
        datetime(5, 1, 2, 3, 4, 5, 10, tzinfo=UTC),
        datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
        *(MOMENT + timedelta(microseconds=7919 * i, seconds=86413 * i) for i in range(200)),
    ]
    for value in samples:
        for sep in ("T", " "):
            expected = naive_utc(value).isoformat(sep, "microseconds")
            assert utc_micros(value, sep) == expected
    assert utc_micros(WHOLE) == "2026-01-02T03:04:05.000000"
    assert utc_micros(datetime(5, 1, 2, tzinfo=UTC), " ") == "0005-01-02 00:00:00.000000"
