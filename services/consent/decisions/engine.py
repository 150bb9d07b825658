"""The decision rule, as a pure function over the subject's consent records."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True, slots=True)
class Candidate:
    """The columns of a consent record a decision needs."""

    id: str
    opt_in: bool
    status: str
    consent_start: datetime
    consent_expiry: datetime
    data_consumer: str
    data_provider: str
    purpose_code: str
    data_categories: Sequence[str]


@dataclass(frozen=True, slots=True)
class Outcome:
    decision: str
    code: str
    reason: str
    record_id: str | None


# When several records match up to a point, the deny reason names the closest one.
_STATE_ORDER = {"paused": 0, "not-yet-valid": 1, "expired": 2, "withdrawn": 3}


def decide(
    candidates: Sequence[Candidate],
    *,
    consumer: str,
    provider: str,
    purpose: str,
    categories: Sequence[str],
    at: datetime,
) -> Outcome:
    """Permit iff one record covers consumer, provider, purpose, every category, and is live."""
    if not candidates:
        return Outcome("deny", "no-consent-record", "No consent record for this subject.", None)
    pair = [c for c in candidates if c.data_consumer == consumer and c.data_provider == provider]
    if not pair:
        return Outcome(
            "deny",
            "wrong-consumer",
            f"No consent lets {consumer} receive data from {provider} about this subject.",
            None,
        )
    purposed = [c for c in pair if c.purpose_code == purpose]
    if not purposed:
        given = ", ".join(sorted({c.purpose_code for c in pair}))
        return Outcome(
            "deny",
            "wrong-purpose",
            f"Consent covers purpose(s) {given}, not {purpose!r}.",
            pair[0].id,
        )
    wanted = set(categories)
    covering = [c for c in purposed if wanted <= set(c.data_categories)]
    if not covering:
        missing = sorted(wanted - set().union(*(set(c.data_categories) for c in purposed)))
        return Outcome(
            "deny",
            "category-not-covered",
            f"Consent does not cover data categor{'y' if len(missing) == 1 else 'ies'} "
            f"{', '.join(missing) or ', '.join(sorted(wanted))}.",
            purposed[0].id,
        )
    blocked: list[tuple[int, str, Candidate]] = []
    for candidate in covering:
        state = _state(candidate, at)
        if state == "live":
            return Outcome(
                "permit",
                "permitted",
                f"Consent record {candidate.id} permits {purpose} for {consumer}.",
                candidate.id,
            )
        blocked.append((_STATE_ORDER[state], state, candidate))
    _, state, candidate = min(blocked, key=lambda item: item[0])
    return Outcome("deny", state, _REASONS[state].format(record=candidate.id), candidate.id)


_REASONS: dict[str, Any] = {
    "withdrawn": "Consent record {record} was withdrawn.",
    "expired": "Consent record {record} has expired.",
    "not-yet-valid": "Consent record {record} is not valid yet.",
    "paused": "Consent record {record} is paused.",
}


def _state(candidate: Candidate, at: datetime) -> str:
    if not candidate.opt_in or candidate.status == "REVOKED":
        return "withdrawn"
    if candidate.status == "PAUSED":
        return "paused"
    if at >= candidate.consent_expiry:
        return "expired"
    if at < candidate.consent_start:
        return "not-yet-valid"
    return "live"
