"""The IDA hot path's own statement runner binds exactly what SQLAlchemy would."""

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import Dialect
from sqlalchemy.dialects import sqlite
from sqlalchemy.dialects.postgresql import psycopg
from sqlmodel.sql.sqltypes import UTCDateTime

from services.id_registry.ida.sql import sqlite_utc_bind
from services.id_registry.ida.store import Statements

offsets = st.integers(-14 * 60, 14 * 60).map(lambda minutes: timedelta(minutes=minutes))
aware = st.builds(
    lambda moment, offset: moment.replace(tzinfo=UTC).astimezone(timezone(offset)),
    st.datetimes(min_value=datetime(1900, 1, 2), max_value=datetime(9999, 12, 30)),
    offsets,
)


@settings(deadline=None)
@given(aware)
def test_utc_datetimes_are_bound_as_sqlalchemy_binds_them_on_sqlite(moment: datetime) -> None:
    expected = UTCDateTime()._cached_bind_processor(sqlite.dialect())
    assert expected is not None
    assert sqlite_utc_bind(moment) == expected(moment)


def test_a_naive_datetime_is_refused() -> None:
    with pytest.raises(ValueError):
        sqlite_utc_bind(datetime(2026, 1, 1, 10, 0))


DIALECTS: list[Dialect] = [sqlite.dialect(), psycopg.dialect()]  # type: ignore[no-untyped-call]


@pytest.mark.parametrize("dialect", DIALECTS, ids=lambda d: d.name)
def test_audit_parameters_follow_the_compiled_statement(dialect: Dialect) -> None:
    statement = Statements(dialect).insert_audit
    now = datetime(2026, 3, 1, 9, 0, 0, 123456, tzinfo=UTC)
    values = {
        "transaction_id": "TXN1",
        "partner_id": "moh-hmis",
        "request_type": "auth",
        "auth_types": "otp",
        "individual_id_type": "UIN",
        "individual_ref": "ref",
        "status": "success",
        "error_codes": "",
        "created_at": now,
    }
    params = statement.params(values)
    if dialect.name == "sqlite":
        assert params == [*list(values.values())[:-1], "2026-03-01 09:00:00.123456"]
    else:
        assert isinstance(params, dict) and params["created_at"] == now
        assert {name: params[name] for name in values if name != "created_at"} == {
            name: value for name, value in values.items() if name != "created_at"
        }
