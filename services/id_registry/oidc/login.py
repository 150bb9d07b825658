"""`POST /authorize`: the person's login (IDA OTP or demographic check) and consent, ending in
a single-use authorization code."""

from __future__ import annotations

import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from pydantic import ValidationError
from sqlmodel import Session

from services.id_registry.controls.models import ExpectationPublic
from services.id_registry.controls.service import match
from services.id_registry.errors import error_item
from services.id_registry.ida import service as ida
from services.id_registry.ida import store
from services.id_registry.ida.envelope import OTP_ID, Demographics, LangValue, OtpEnvelope
from services.id_registry.ida.store import Hot
from services.id_registry.oidc.authn import AuthAttempt, authenticate
from services.id_registry.oidc.authorize import client_and_partner
from services.id_registry.oidc.errors import invalid_request, redirect_to
from services.id_registry.oidc.keys import digest
from services.id_registry.oidc.models import OidcClient, OidcTransaction
from services.id_registry.oidc.provider import IdaAccess, OidcSettings
from services.id_registry.partners.service import ActivePartner


@dataclass(slots=True)
class Page:
    """The login page to show (again): the transaction, and what happened."""

    txn: OidcTransaction
    client: OidcClient
    status: int = 200
    notice: str | None = None
    errors: list[dict[str, str]] = field(default_factory=list)
    individual_id: str = ""


def live_transaction(
    session: Session, access: IdaAccess, transaction_id: str | None, now: datetime
) -> tuple[OidcTransaction, OidcClient, ActivePartner]:
    txn = session.get(OidcTransaction, transaction_id) if transaction_id else None
    if txn is None:
        raise invalid_request("Unknown login transaction; start again from the client")
    if txn.code_hash is not None or now >= txn.expires_at:
        raise invalid_request("This login has expired or is complete; start again from the client")
    client, partner = client_and_partner(session, access, txn.client_id)
    return txn, client, partner


def _hot(session: Session) -> Hot:
    connection = session.connection()
    return Hot(connection.connection.dbapi_connection, store.statements(connection.dialect))


def _expectation(
    session: Session, access: IdaAccess, individual_id: str, partner: ActivePartner
) -> ExpectationPublic | None:
    """A mock expectation applies to logins as to IDA calls (its delay too)."""
    forced = match(
        access.expectations.rows(session),
        individual_id=individual_id,
        partner_id=partner.partner_id,
    )
    if forced is not None and forced.delayMs:
        time.sleep(forced.delayMs / 1000)
    return forced


def _id_type(individual_id: str) -> str:
    return "VID" if len(individual_id) == 16 else "UIN"


def send_otp(
    *,
    session: Session,
    access: IdaAccess,
    form: Mapping[str, str],
    channels: list[str],
    now: datetime,
) -> Page:
    """IDA's OTP request on the person's behalf, for the client's partner: the OTP lands in the
    sandbox's OTP outbox (and the IDA audit), bound to this login's transaction id."""
    txn, client, partner = live_transaction(session, access, form.get("transaction_id"), now)
    individual_id = (form.get("individual_id") or "").strip()
    page = Page(txn=txn, client=client, individual_id=individual_id, status=400)
    if "otp" not in txn.factors:
        page.errors = [error_item("IDA-MPA-005", "OTP is not offered for this login")]
        return page
    try:
        envelope = OtpEnvelope.model_validate(
            {
                "id": OTP_ID,
                "version": "1.0",
                "requestTime": now.isoformat(),
                "transactionID": txn.id,
                "individualId": individual_id,
                "individualIdType": _id_type(individual_id),
                "otpChannel": channels or ["PHONE", "EMAIL"],
            }
        )
    except ValidationError:
        page.errors = [error_item("IDA-MLC-009", "Give your UIN or VID (and PHONE/EMAIL)")]
        return page
    forced = _expectation(session, access, individual_id, partner)
    ctx = ida.IdaContext(
        partner=partner,
        secret=access.secret,
        now=now,
        forced=forced,
        recorded_tokens=access.recorded_tokens,
        people=access.people,
    )
    outcome = ida.request_otp(
        _hot(session), ctx=ctx, envelope=envelope, ttl_seconds=access.otp_ttl_seconds
    )
    session.commit()
    if outcome.ok and outcome.masked:
        sent = [value for value in outcome.masked.values() if value]
        page.status, page.notice = 200, f"OTP sent to {' and '.join(sent)}"
    page.errors = outcome.errors
    return page


def login(
    *,
    session: Session,
    access: IdaAccess,
    settings: OidcSettings,
    form: Mapping[str, str],
    accepted: list[str],
    now: datetime,
) -> Page | str:
    """Authenticate and record consent; on success the redirect (with code and state)."""
    txn, client, partner = live_transaction(session, access, form.get("transaction_id"), now)
    if form.get("action") == "cancel":
        txn.expires_at = now
        session.add(txn)
        session.commit()
        return redirect_to(
            txn.redirect_uri,
            error="access_denied",
            error_description="The person cancelled the login",
            state=txn.state,
        )
    individual_id = (form.get("individual_id") or "").strip()
    page = Page(txn=txn, client=client, individual_id=individual_id, status=400)
    accepted = list(dict.fromkeys(accepted))
    if not set(txn.essential_claims) <= set(accepted) <= set(txn.claims):
        page.errors = [error_item("invalid_accepted_claim", "Accept every essential claim")]
        return page
    attempt = _attempt(form, individual_id)
    if isinstance(attempt, str):
        page.errors = [error_item("IDA-MLC-009", attempt)]
        return page
    forced = _expectation(session, access, individual_id, partner)
    outcome = authenticate(
        _hot(session),
        access=access,
        partner=partner,
        offered=txn.factors,
        transaction_id=txn.id,
        attempt=attempt,
        forced=forced,
        now=now,
    )
    if not outcome.ok:
        session.commit()  # the audit row of the failed attempt
        page.status, page.errors = 401, outcome.errors
        return page
    assert outcome.person_id is not None and outcome.token is not None
    code = secrets.token_urlsafe(32)
    txn.identity_id = outcome.person_id
    txn.subject = outcome.token
    txn.accepted_claims = accepted
    txn.auth_factors = ",".join(attempt.factors)
    txn.auth_time = now
    txn.code_hash = digest(code)
    txn.code_expires_at = now + timedelta(seconds=settings.code_ttl_seconds)
    session.add(txn)
    session.commit()
    ida.committed(access.recorded_tokens, ida.Outcome(token=outcome.token))
    return redirect_to(txn.redirect_uri, code=code, state=txn.state)


def _attempt(form: Mapping[str, str], individual_id: str) -> AuthAttempt | str:
    """The factors the form carries, or what is wrong with it."""
    if not individual_id or len(individual_id) > 64:
        return "Give your UIN or VID"
    otp = (form.get("otp") or "").strip() or None
    if otp is not None and not (otp.isdigit() and 4 <= len(otp) <= 8):
        return "The OTP is 4 to 8 digits"
    name = (form.get("name") or "").strip()
    dob = (form.get("dob") or "").strip().replace("-", "/")
    demographics: Demographics | None = None
    if name or dob:
        try:
            demographics = Demographics(
                name=[LangValue(language="eng", value=name)] if name else None,
                dob=dob or None,
            )
        except ValidationError:
            return "Date of birth must be YYYY-MM-DD (name at most 300 characters)"
    return AuthAttempt(
        individual_id=individual_id,
        id_type=_id_type(individual_id),
        otp=otp,
        demographics=demographics,
    )
