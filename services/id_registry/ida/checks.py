"""The checks an IDA transaction is made of: who the individual is, OTP, demographic match."""

from __future__ import annotations

import hmac
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlmodel import Session, col, select

from services.id_registry import ids
from services.id_registry.errors import error_item
from services.id_registry.ida.envelope import Demographics
from services.id_registry.ida.models import OtpMessage
from services.id_registry.identities.models import STATUS_ACTIVE, Identity
from services.id_registry.identities.service import mosip_date, normalise
from services.id_registry.vids import service as vids
from services.id_registry.vids.models import Vid


@dataclass(slots=True)
class Resolved:
    """The outcome of resolving an individualId: the identity, or the error items."""

    identity: Identity | None = None
    vid: Vid | None = None
    errors: list[dict[str, str]] = field(default_factory=list)


def resolve_individual(
    *, session: Session, individual_id: str, id_type: str, now: datetime
) -> Resolved:
    """UIN or VID to an active identity; checksum before lookup; a PSUT is never accepted."""
    vid: Vid | None = None
    if id_type == "UIN":
        if not ids.is_valid_uin(individual_id):
            return Resolved(errors=[error_item("IDA-MLC-002")])
        identity = session.exec(select(Identity).where(Identity.uin == individual_id)).first()
        if identity is None:
            return Resolved(errors=[error_item("IDA-MLC-018", "UIN not available in database")])
    else:
        vid, code = vids.resolve_for_auth(session=session, value=individual_id, now=now)
        if code == "IDA-MLC-018":
            return Resolved(errors=[error_item(code, "VID not available in database")])
        if code == "IDA-MLC-005":
            assert vid is not None
            status = vid.effective_status(now).lower()
            return Resolved(errors=[error_item(code, f"VID is {status}")])
        if code:
            return Resolved(errors=[error_item(code)])
        assert vid is not None
        identity = session.get(Identity, vid.identity_id)
        assert identity is not None
    if identity.status != STATUS_ACTIVE:
        code = "IDA-MLC-003" if vid is None else "IDA-MLC-010"
        return Resolved(errors=[error_item(code)])
    if identity.blocked:
        return Resolved(errors=[error_item("IDA-MLC-022")])
    return Resolved(identity=identity, vid=vid)


def verify_otp(
    *,
    session: Session,
    identity: Identity,
    partner_id: str,
    transaction_id: str,
    otp: str,
    now: datetime,
) -> str:
    """ "" when the latest unused OTP for (person, partner) matches; it is then spent."""
    message = session.exec(
        select(OtpMessage)
        .where(
            OtpMessage.identity_id == identity.id,
            OtpMessage.partner_id == partner_id,
            col(OtpMessage.used_at).is_(None),
        )
        .order_by(col(OtpMessage.id).desc())
    ).first()
    if message is None:
        return "IDA-OTA-004"
    if message.transaction_id != transaction_id:
        return "IDA-OTA-005"
    if now >= message.expires_at:
        return "IDA-OTA-003"
    if not hmac.compare_digest(message.otp.encode(), otp.encode()):
        return "IDA-OTA-004"
    message.used_at = now
    session.add(message)
    return ""


def _age(born: date, today: date) -> int:
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


def _digits(text: str) -> str:
    return "".join(ch for ch in text if ch.isdigit())


def match_demographics(
    *, identity: Identity, demographics: Demographics, now: datetime
) -> list[dict[str, str]]:
    """Exact (normalised) match of every attribute given; one error item per mismatch."""
    errors: list[dict[str, str]] = []

    def mismatch(name: str) -> None:
        errors.append(error_item("IDA-DEA-001", f"Demographic data {name} did not match"))

    def missing(name: str) -> None:
        errors.append(
            error_item("IDA-DEA-003", f"Demographic data {name} not available in database")
        )

    if demographics.name is not None and not any(
        normalise(entry.value) == normalise(identity.full_name) for entry in demographics.name
    ):
        mismatch("name")
    if demographics.dob is not None and demographics.dob != mosip_date(identity.date_of_birth):
        mismatch("dob")
    if demographics.age is not None and demographics.age != _age(
        identity.date_of_birth, now.date()
    ):
        mismatch("age")
    if demographics.gender is not None and not any(
        entry.value.casefold() == identity.gender for entry in demographics.gender
    ):
        mismatch("gender")
    if demographics.phoneNumber is not None:
        if identity.phone is None:
            missing("phoneNumber")
        elif _digits(demographics.phoneNumber) != _digits(identity.phone):
            mismatch("phoneNumber")
    if demographics.emailId is not None:
        if identity.email is None:
            missing("emailId")
        elif demographics.emailId.casefold() != identity.email.casefold():
            mismatch("emailId")
    if demographics.fullAddress is not None:
        if identity.address is None:
            missing("fullAddress")
        elif not any(
            normalise(entry.value) == normalise(identity.address)
            for entry in demographics.fullAddress
        ):
            mismatch("fullAddress")
    return errors
