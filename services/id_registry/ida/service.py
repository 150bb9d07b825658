"""IDA transactions: authentication, eKYC and OTP requests, each audited."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

from services.id_registry.controls.models import ExpectationPublic
from services.id_registry.errors import error_item
from services.id_registry.hashing import reference
from services.id_registry.ida import store
from services.id_registry.ida.checks import match_demographics, resolve_individual, verify_otp
from services.id_registry.ida.envelope import AuthEnvelope, KycEnvelope, OtpEnvelope
from services.id_registry.ida.people import PersonCache
from services.id_registry.ida.store import Hot, Person
from services.id_registry.identities.attributes import identity_attributes
from services.id_registry.partners.service import ActivePartner


@dataclass(slots=True)
class IdaContext:
    """What every transaction needs besides its request."""

    partner: ActivePartner
    secret: bytes
    now: datetime
    forced: ExpectationPublic | None = None
    recorded_tokens: set[str] = field(default_factory=set)
    people: PersonCache = field(default_factory=PersonCache)


@dataclass(slots=True)
class Outcome:
    errors: list[dict[str, str]] = field(default_factory=list)
    token: str | None = None
    identity: dict[str, Any] | None = None
    masked: dict[str, str | None] | None = None

    @property
    def ok(self) -> bool:
        return not self.errors


def _audit(
    hot: Hot,
    ctx: IdaContext,
    envelope: AuthEnvelope | KycEnvelope | OtpEnvelope,
    kind: str,
    auth_types: list[str],
    outcome: Outcome,
) -> None:
    store.audit(
        hot,
        transaction_id=envelope.transactionID,
        partner_id=ctx.partner.partner_id,
        request_type=kind,
        auth_types=",".join(auth_types),
        individual_id_type=envelope.individualIdType,
        individual_ref=reference(ctx.secret, envelope.individualId),
        status="success" if outcome.ok else "failure",
        error_codes=",".join([item["errorCode"] for item in outcome.errors])[:200],
        created_at=ctx.now,
    )


def _forced(ctx: IdaContext) -> list[dict[str, str]]:
    if ctx.forced is None or ctx.forced.errorCode is None:
        return []
    return [error_item(ctx.forced.errorCode, ctx.forced.errorMessage)]


def _requested_types(envelope: AuthEnvelope | KycEnvelope) -> list[str]:
    types = []
    request = envelope.plain()
    if request.otp is not None:
        types.append("otp")
    if request.demographics is not None and request.demographics.any_given():
        types.append("demo")
    return types


def _policy_errors(
    ctx: IdaContext, envelope: AuthEnvelope | KycEnvelope, types: list[str]
) -> list[dict[str, str]]:
    if not envelope.consentObtained:
        return [error_item("IDA-MLC-012")]
    if not types:
        return [error_item("IDA-MLC-008")]
    allowed = ctx.partner.policy.allowedAuthTypes
    refused = [
        error_item("IDA-MPA-006", f"{kind.upper()} Authentication usage not allowed as per policy")
        for kind in types
        if kind not in allowed
    ]
    if refused:
        return refused
    if isinstance(envelope, KycEnvelope) and not ctx.partner.policy.kyc_attributes():
        return [error_item("IDA-MPA-013")]
    return []


def _kyc_identity(
    identity: Person, policy_attrs: list[str], asked: list[str] | None
) -> dict[str, Any]:
    wanted = [name for name in policy_attrs if asked is None or name in asked]
    attributes = identity_attributes(identity)
    return {name: attributes[name] for name in wanted if name in attributes}


def authenticate(
    hot: Hot,
    *,
    ctx: IdaContext,
    envelope: AuthEnvelope | KycEnvelope,
) -> Outcome:
    """Auth or eKYC: consent, policy, individual, factors; a token only when all pass."""
    kind: Literal["auth", "kyc"] = "kyc" if isinstance(envelope, KycEnvelope) else "auth"
    types = _requested_types(envelope)
    request = envelope.plain()
    outcome = Outcome(errors=_forced(ctx) or _policy_errors(ctx, envelope, types))
    resolved = None
    if outcome.ok:
        resolved = resolve_individual(
            hot,
            individual_id=envelope.individualId,
            id_type=envelope.individualIdType,
            now=ctx.now,
            people=ctx.people,
        )
        outcome.errors = resolved.errors
    if outcome.ok and resolved is not None and resolved.person is not None:
        identity = resolved.person
        if request.otp is not None:
            code = verify_otp(
                hot,
                person=identity,
                partner_id=ctx.partner.partner_id,
                transaction_id=envelope.transactionID,
                otp=request.otp,
                now=ctx.now,
            )
            if code:
                outcome.errors.append(error_item(code))
        if request.demographics is not None and "demo" in types:
            outcome.errors.extend(
                match_demographics(
                    identity=identity, demographics=request.demographics, now=ctx.now
                )
            )
        if outcome.ok and resolved.vid is not None and not store.spend_vid(hot, resolved.vid):
            outcome.errors.append(error_item("IDA-MLC-005", "VID is used"))
        if outcome.ok:
            outcome.token = store.issue_token(
                hot,
                secret=ctx.secret,
                person=identity,
                partner_id=ctx.partner.partner_id,
                now=ctx.now,
                recorded=ctx.recorded_tokens,
            )
            if isinstance(envelope, KycEnvelope):
                outcome.identity = _kyc_identity(
                    identity, ctx.partner.policy.kyc_attributes(), envelope.allowedKycAttributes
                )
    _audit(hot, ctx, envelope, kind, types, outcome)
    return outcome


def committed(recorded: set[str], outcome: Outcome) -> None:
    """After the commit the token is known to be recorded (never before: a failed commit
    would leave the set claiming a token the database does not have)."""
    if outcome.token is not None:
        if len(recorded) > 500_000:
            recorded.clear()
        recorded.add(outcome.token)


def _mask_phone(phone: str) -> str:
    digits = "".join(ch for ch in phone if ch.isdigit())
    return "X" * max(len(digits) - 3, 0) + digits[-3:]


def _mask_email(email: str) -> str:
    local, _, domain = email.partition("@")
    return "X" * max(len(local) - 1, 0) + local[-1:] + "@" + domain


def request_otp(hot: Hot, *, ctx: IdaContext, envelope: OtpEnvelope, ttl_seconds: int) -> Outcome:
    """Generate an OTP and "send" it: it lands in the admin-readable outbox."""
    outcome = Outcome(errors=_forced(ctx))
    if outcome.ok and not ctx.partner.policy.allows_otp_request():
        outcome.errors = [error_item("IDA-MPA-005")]
    if outcome.ok:
        resolved = resolve_individual(
            hot,
            individual_id=envelope.individualId,
            id_type=envelope.individualIdType,
            now=ctx.now,
            people=ctx.people,
        )
        outcome.errors = resolved.errors
        identity = resolved.person
        if identity is not None:
            mobile = identity.phone if "PHONE" in envelope.otpChannel else None
            email = identity.email if "EMAIL" in envelope.otpChannel else None
            if mobile is None and email is None:
                channels = "/".join(ch.capitalize() for ch in envelope.otpChannel)
                outcome.errors = [
                    error_item(
                        "IDA-MLC-014",
                        f"{channels} not registered. Individual has to register and try again",
                    )
                ]
            else:
                outcome.masked = {
                    "maskedMobile": _mask_phone(mobile) if mobile else None,
                    "maskedEmail": _mask_email(email) if email else None,
                }
                store.add_otp(
                    hot,
                    identity_id=identity.id,
                    partner_id=ctx.partner.partner_id,
                    individual_id=envelope.individualId,
                    transaction_id=envelope.transactionID,
                    channels=",".join(envelope.otpChannel),
                    masked_mobile=outcome.masked["maskedMobile"],
                    masked_email=outcome.masked["maskedEmail"],
                    otp=f"{secrets.randbelow(1_000_000):06d}",
                    created_at=ctx.now,
                    expires_at=ctx.now + timedelta(seconds=ttl_seconds),
                )
    _audit(hot, ctx, envelope, "otp", ["otp-request"], outcome)
    return outcome
