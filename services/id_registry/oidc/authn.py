"""A login's authentication: IDA's own checks (individual, OTP, demographics, VID use, PSUT),
audited like every IDA attempt, as request type `oidc` of the client's partner."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from services.id_registry.controls.models import ExpectationPublic
from services.id_registry.errors import error_item
from services.id_registry.hashing import reference
from services.id_registry.ida import store
from services.id_registry.ida.checks import match_demographics, resolve_individual, verify_otp
from services.id_registry.ida.envelope import Demographics
from services.id_registry.ida.store import Hot
from services.id_registry.oidc.provider import IdaAccess
from services.id_registry.partners.service import ActivePartner

REQUEST_TYPE = "oidc"


@dataclass(frozen=True, slots=True)
class AuthAttempt:
    individual_id: str
    id_type: str
    otp: str | None
    demographics: Demographics | None

    @property
    def factors(self) -> list[str]:
        found = []
        if self.otp is not None:
            found.append("otp")
        if self.demographics is not None and self.demographics.given():
            found.append("demo")
        return found


@dataclass(slots=True)
class LoginOutcome:
    errors: list[dict[str, str]] = field(default_factory=list)
    person_id: int | None = None
    token: str | None = None

    @property
    def ok(self) -> bool:
        return not self.errors


def _refusals(
    attempt: AuthAttempt, partner: ActivePartner, offered: list[str]
) -> list[dict[str, str]]:
    if not attempt.factors:
        return [error_item("IDA-MLC-008")]
    return [
        error_item(
            "IDA-MPA-006", f"{factor.upper()} Authentication usage not allowed as per policy"
        )
        for factor in attempt.factors
        if factor not in offered or factor not in partner.policy.allowedAuthTypes
    ]


def authenticate(
    hot: Hot,
    *,
    access: IdaAccess,
    partner: ActivePartner,
    offered: list[str],
    transaction_id: str,
    attempt: AuthAttempt,
    forced: ExpectationPublic | None,
    now: datetime,
) -> LoginOutcome:
    """Factors offered to this login and allowed by the policy, then IDA's checks in IDA's
    order; the partner's PSUT only when every check passed."""
    outcome = LoginOutcome()
    if forced is not None and forced.errorCode is not None:
        outcome.errors = [error_item(forced.errorCode, forced.errorMessage)]
    else:
        outcome.errors = _refusals(attempt, partner, offered)
    if outcome.ok:
        resolved = resolve_individual(
            hot,
            individual_id=attempt.individual_id,
            id_type=attempt.id_type,
            now=now,
            people=access.people,
        )
        outcome.errors = resolved.errors
        person = resolved.person
        if person is not None:
            if attempt.otp is not None:
                code = verify_otp(
                    hot,
                    person=person,
                    partner_id=partner.partner_id,
                    transaction_id=transaction_id,
                    otp=attempt.otp,
                    now=now,
                )
                if code:
                    outcome.errors.append(error_item(code))
            if attempt.demographics is not None:
                outcome.errors.extend(
                    match_demographics(identity=person, demographics=attempt.demographics, now=now)
                )
            if outcome.ok and resolved.vid is not None and not store.spend_vid(hot, resolved.vid):
                outcome.errors.append(error_item("IDA-MLC-005", "VID is used"))
            if outcome.ok:
                outcome.person_id = person.id
                outcome.token = store.issue_token(
                    hot,
                    secret=access.secret,
                    person=person,
                    partner_id=partner.partner_id,
                    now=now,
                    recorded=access.recorded_tokens,
                )
    store.audit(
        hot,
        transaction_id=transaction_id,
        partner_id=partner.partner_id,
        request_type=REQUEST_TYPE,
        auth_types=",".join(attempt.factors),
        individual_id_type=attempt.id_type,
        individual_ref=reference(access.secret, attempt.individual_id),
        status="success" if outcome.ok else "failure",
        error_codes=",".join(item["errorCode"] for item in outcome.errors)[:200],
        created_at=now,
    )
    return outcome
