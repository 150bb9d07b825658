"""The hot path's cheaper helpers give exactly what the plain versions give."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sandbox.trace.classify import json_field_names
from services.interop_layer.identifiers import canonical_subsystem
from services.interop_layer.messagelog.bodies import json_fields
from services.interop_layer.messagelog.chain import HASHED_FIELDS, _plain, record_digest


def reference_digest(prev_hash: str, fields: dict[str, Any]) -> str:
    """The canonical form as first defined: stored chains were hashed this way."""
    canonical = json.dumps(
        {name: reference_plain(fields.get(name)) for name in HASHED_FIELDS},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=True,
    )
    return hashlib.sha256(f"{prev_hash}\n{canonical}".encode()).hexdigest()


values = st.one_of(
    st.none(),
    st.text(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.lists(st.text(), max_size=4),
    st.datetimes(timezones=st.sampled_from([UTC])),
)


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.sampled_from(HASHED_FIELDS), values), st.text(min_size=1))
def test_record_digest_keeps_the_canonical_form(fields: dict[str, Any], prev: str) -> None:
    assert record_digest(prev, fields) == reference_digest(prev, fields)


def reference_plain(value: Any) -> Any:
    """Datetimes in the canonical form as first defined."""
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(UTC)
        return value.replace(tzinfo=None).isoformat(timespec="microseconds")
    return value


OFFSETS = [UTC, timezone(timedelta(hours=3)), timezone(timedelta(hours=-5, minutes=-30))]


@settings(max_examples=300, deadline=None)
@given(st.datetimes(timezones=st.one_of(st.none(), st.sampled_from(OFFSETS))))
def test_plain_writes_datetimes_as_first_defined(value: datetime) -> None:
    assert _plain(value) == reference_plain(value)
    assert _plain(value.replace(microsecond=0)) == reference_plain(value.replace(microsecond=0))


def test_record_digest_with_awkward_text() -> None:
    fields = {
        "path": "/r1/é/\u2028/\x7f/\x00",
        "request_body": '{"a": "\ud83d\ude00"}',
        "started_at": datetime(2026, 1, 2, 3, 4, 5, 6, tzinfo=UTC),
    }
    assert record_digest("0" * 64, fields) == reference_digest("0" * 64, fields)
    plain = {"path": "/r1/x", "duration_us": 2**70, "request_fields": ["a", "b\x7f"]}
    assert record_digest("0" * 64, plain) == reference_digest("0" * 64, plain)
    ascii_only = {"path": "/r1/x", "query": "a=1&b=%20", "request_fields": ["a", "b\n\t"]}
    assert record_digest("0" * 64, ascii_only) == reference_digest("0" * 64, ascii_only)


def reference_fields(document: Any) -> list[str]:
    """Field names as first defined (every value visited): the trace's own definition."""
    return json_field_names(document, max_depth=4, limit=200)


documents = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=3),
    lambda children: (
        st.lists(children, max_size=25)
        | st.dictionaries(st.text(min_size=1, max_size=8), children, max_size=30)
    ),
    max_leaves=400,
)


@settings(max_examples=300, deadline=None)
@given(documents)
def test_json_fields_names_what_the_first_definition_named(document: Any) -> None:
    data = json.dumps(document).encode()
    expected = reference_fields(document) if isinstance(document, dict | list) else []
    assert (json_fields(data, "application/json") or []) == expected


def test_json_fields_reads_what_json_reads() -> None:
    big = b'{"n": 123456789012345678901234567890, "a": [{"b": 1}]}'
    assert json_fields(big, "application/json") == ["a", "a[].b", "n"]
    assert json_fields(b"{not json", "application/json") is None
    assert json_fields(b'{"x": NaN}', "application/json") == ["x"]


def test_canonical_subsystem_refuses_malformed_ids_every_time() -> None:
    assert canonical_subsystem(" DPI/GOV/MOH/hmis ") == "DPI/GOV/MOH/hmis"
    for _ in range(2):  # failures are not cached as answers
        with pytest.raises(ValueError):
            canonical_subsystem("DPI/GOV/MOH")


def test_json_fields_stops_where_the_first_definition_stopped() -> None:
    document = [{f"k{i}": {"a": [{"b": 1, "c": {"d": 2}}]} for i in range(150)}, {"late": 1}]
    expected = reference_fields(document)
    assert len(expected) >= 200
    assert json_fields(json.dumps(document).encode(), "application/json") == expected
