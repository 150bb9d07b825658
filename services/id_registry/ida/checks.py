"""The checks an IDA transaction is made of: who the individual is, OTP, demographic match."""

from __future__ import annotations

import hmac
from dataclasses import dataclass, field
from datetime import date, datetime

from services.id_registry import ids
from services.id_registry.errors import error_item
from services.id_registry.ida import store
from services.id_registry.ida.envelope import Demographics
from services.id_registry.ida.people import PersonCache
from services.id_registry.ida.store import Hot, Person, VidRow
from services.id_registry.identities.attributes import normalise
from services.id_registry.identities.models import STATUS_ACTIVE
from services.id_registry.vids.models import ACTIVE


@dataclass(slots=True)
class Resolved:
    """The outcome of resolving an individualId: the person, or the error items."""

    person: Person | None = None
    vid: VidRow | None = None
    errors: list[dict[str, str]] = field(default_factory=list)


def resolve_individual(
    hot: Hot,
    *,
    individual_id: str,
    id_type: str,
    now: datetime,
    people: PersonCache,
) -> Resolved:
    """UIN or VID to an active identity; checksum before lookup; a PSUT is never accepted."""
    vid: VidRow | None = None
    if id_type == "UIN":
        # A cached identity's UIN passed the rules before its lookup.
        if not people.cached(individual_id) and not ids.is_valid_uin(individual_id):
            return Resolved(errors=[error_item("IDA-MLC-002")])
        person = people.by_uin(hot, individual_id)
        if person is None:
            return Resolved(errors=[error_item("IDA-MLC-018", "UIN not available in database")])
    else:
        if not ids.is_valid_vid(individual_id):
            return Resolved(errors=[error_item("IDA-MLC-004")])
        vid = store.vid_by_value(hot, individual_id)
        if vid is None:
            return Resolved(errors=[error_item("IDA-MLC-018", "VID not available in database")])
        status = vid.effective_status(now)
        if status != ACTIVE:
            return Resolved(vid=vid, errors=[error_item("IDA-MLC-005", f"VID is {status.lower()}")])
        person = people.by_id(hot, vid.identity_id)
        assert person is not None
    if person.status != STATUS_ACTIVE:
        code = "IDA-MLC-003" if vid is None else "IDA-MLC-010"
        return Resolved(errors=[error_item(code)])
    if person.blocked:
        return Resolved(errors=[error_item("IDA-MLC-022")])
    return Resolved(person=person, vid=vid)


def verify_otp(
    hot: Hot,
    *,
    person: Person,
    partner_id: str,
    transaction_id: str,
    otp: str,
    now: datetime,
) -> str:
    """ "" when the latest unused OTP for (person, partner) matches; it is then spent. A
    mismatch leaves it unspent (found and spent in one statement, given back on a mismatch)."""
    message = store.spend_latest_otp(hot, identity_id=person.id, partner_id=partner_id, now=now)
    if message is None:
        return "IDA-OTA-004"  # none, or used by a concurrent request
    code = ""
    if message.transaction_id != transaction_id:
        code = "IDA-OTA-005"
    elif now >= message.expires_at:
        code = "IDA-OTA-003"
    elif not hmac.compare_digest(message.otp.encode(), otp.encode()):
        code = "IDA-OTA-004"
    if code:
        store.unspend_otp(hot, message.id)
    return code


def _age(born: date, today: date) -> int:
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


def _digits(text: str) -> str:
    return "".join(ch for ch in text if ch.isdigit())


def match_demographics(
    *, identity: Person, demographics: Demographics, now: datetime
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
        normalise(entry.value) == identity.name_key for entry in demographics.name
    ):
        mismatch("name")
    if demographics.dob is not None and demographics.dob != identity.dob_text:
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
