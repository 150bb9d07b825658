"""The decision rule as a property: permit exactly when one record covers the whole request."""

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from services.consent.decisions.engine import Candidate, decide

NOW = datetime(2026, 6, 1, tzinfo=UTC)
MEMBERS = ["DPI/GOV/MOE/emis", "DPI/GOV/MSP/spmis", "DPI/GOV/MOH/hmis"]
PURPOSES = ["school-enrolment", "cash-transfer"]
CATEGORIES = ["immunisation-status", "pregnancy-status", "births"]

candidates = st.builds(
    Candidate,
    id=st.uuids().map(str),
    opt_in=st.booleans(),
    status=st.sampled_from(["ACTIVE", "PAUSED", "REVOKED"]),
    consent_start=st.integers(-10, 10).map(lambda d: NOW + timedelta(days=d)),
    consent_expiry=st.integers(-10, 400).map(lambda d: NOW + timedelta(days=d)),
    data_consumer=st.sampled_from(MEMBERS),
    data_provider=st.sampled_from(MEMBERS),
    purpose_code=st.sampled_from(PURPOSES),
    data_categories=st.lists(st.sampled_from(CATEGORIES), min_size=1, unique=True),
)


def live_and_covering(
    c: Candidate, consumer: str, provider: str, purpose: str, wanted: list[str]
) -> bool:
    return (
        c.data_consumer == consumer
        and c.data_provider == provider
        and c.purpose_code == purpose
        and set(wanted) <= set(c.data_categories)
        and c.opt_in
        and c.status == "ACTIVE"
        and c.consent_start <= NOW < c.consent_expiry
    )


@settings(max_examples=300, deadline=None)
@given(
    records=st.lists(candidates, max_size=4),
    consumer=st.sampled_from(MEMBERS),
    provider=st.sampled_from(MEMBERS),
    purpose=st.sampled_from(PURPOSES),
    wanted=st.lists(st.sampled_from(CATEGORIES), min_size=1, unique=True),
)
def test_permit_iff_a_live_record_covers_everything(records, consumer, provider, purpose, wanted):
    outcome = decide(
        records, consumer=consumer, provider=provider, purpose=purpose, categories=wanted, at=NOW
    )
    expected = any(live_and_covering(c, consumer, provider, purpose, wanted) for c in records)
    assert (outcome.decision == "permit") == expected
    if outcome.decision == "permit":
        chosen = next(c for c in records if c.id == outcome.record_id)
        assert live_and_covering(chosen, consumer, provider, purpose, wanted)
    else:
        assert outcome.code != "permitted" and outcome.reason
