"""A batch's columns go to PostgreSQL as delimited strings the server splits; a column that
could not be split back as it was is sent as a list."""

import psycopg
import pytest

from services.sectoral_platform.aggregate import pgarrays
from tests.conftest import POSTGRES_ADMIN_URL, USE_POSTGRES


def test_a_column_holding_the_delimiter_none_or_one_empty_value_is_not_joined() -> None:
    assert pgarrays.joined([["a", "b"], [1.5, 2.0]]) == ["a,b", "1.5,2.0"]
    assert pgarrays.joined([["a", "b,c"]]) is None
    assert pgarrays.joined([[1.0, None]]) is None
    assert pgarrays.joined([[""]]) is None
    assert pgarrays.joined([["", "x"]]) == [",x"]


@pytest.mark.skipif(not USE_POSTGRES, reason="PostgreSQL's string_to_array: DPI_TEST_DB=postgres")
def test_joined_columns_come_back_from_the_server_as_they_were_sent() -> None:
    texts = ["/aB3dE5gH7jK/zZ9yY8xX7wW", "", "202401", "2024W53"]
    numbers = [0.1 + 0.2, -0.0, 1e-05, 1.7976931348623157e308, 3.0, -12.5]
    counts = [0, -3, 2**40]
    split = pgarrays.joined([texts, numbers, counts])
    assert split is not None
    sql = (f"SELECT {pgarrays.split('text')}, {pgarrays.split('float8')}, "
           f"{pgarrays.split('int8')}")  # fmt: skip
    with psycopg.connect(POSTGRES_ADMIN_URL) as conn:
        row = conn.execute(sql, split).fetchone()
    assert row == (texts, numbers, counts)
