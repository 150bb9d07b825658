"""What an IDA request passes after the partner check and before any identity work: the
`Signature` header, the `requestTime` window and, for encrypted envelopes, the decryption."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TypeVar

import orjson
from pydantic import ValidationError

from services.id_registry.errors import MosipError
from services.id_registry.ida import sealed
from services.id_registry.ida.envelope import (
    AuthEnvelope,
    AuthRequest,
    KycEnvelope,
    OtpEnvelope,
    Sealable,
    invalid_parameter,
)
from services.id_registry.ida.keys import ServerKeys
from services.id_registry.partners.service import ActivePartner


def is_sealed(envelope: Sealable | OtpEnvelope) -> bool:
    return not isinstance(envelope, OtpEnvelope) and isinstance(envelope.request, str)


def check_time(request_time: str, now: datetime, window_seconds: int) -> None:
    """IDA-MLC-001 when `requestTime` is further than the window from the ID system's clock."""
    sent = datetime.fromisoformat(request_time.replace("Z", "+00:00"))
    if sent.tzinfo is None:  # MOSIP's format ends in `Z`; a time without an offset is UTC
        sent = sent.replace(tzinfo=UTC)
    if abs(now - sent) > timedelta(seconds=window_seconds):
        raise MosipError(
            "IDA-MLC-001",
            f"Request to be received at MOSIP within {window_seconds} seconds",
            status_code=200,
        )


def _missing(name: str) -> MosipError:
    return MosipError("IDA-MLC-006", f"Missing Input Parameter - {name}", status_code=200)


def _inner(plain: bytes) -> AuthRequest:
    """The decrypted `request`, validated as a plain one would be."""
    try:
        return AuthRequest.model_validate(orjson.loads(plain))
    except orjson.JSONDecodeError:
        message = "Invalid Input Parameter - request"
    except ValidationError as invalid:
        first = invalid.errors()[0]
        where = ".".join(["request", *(str(part) for part in first["loc"])])
        message = invalid_parameter(first, where)
    raise MosipError("IDA-MLC-009", message, status_code=200)


E = TypeVar("E", AuthEnvelope, KycEnvelope, OtpEnvelope)


def admit(
    envelope: E,
    *,
    raw: bytes,
    signature: str | None,
    partner: ActivePartner,
    keys: ServerKeys | None,
    now: datetime,
    window_seconds: int,
) -> E:
    """The envelope with its plain `request`, or the IDA error (HTTP 200) that refuses it.
    Partners whose policy allows plaintext may send neither encryption nor signature; a
    signature they send is still checked. `keys` is needed (only) for a sealed envelope."""
    try:
        plaintext_allowed = partner.policy.allowPlaintextRequests
        if signature or not plaintext_allowed:
            sealed.verify_signature(signature, raw, partner.certificate)
        check_time(envelope.requestTime, now, window_seconds)
        if isinstance(envelope, OtpEnvelope):
            return envelope
        if not is_sealed(envelope):
            if not plaintext_allowed:
                raise _missing("requestSessionKey")
            return envelope
        for name in ("requestSessionKey", "requestHMAC", "thumbprint"):
            if getattr(envelope, name) is None:
                raise _missing(name)
        assert keys is not None
        plain = sealed.open_request(envelope.model_dump(include=_SEALED_FIELDS), keys)
        return envelope.model_copy(update={"request": _inner(plain)})
    except MosipError as error:
        error.envelope_id = envelope.id
        error.transaction_id = envelope.transactionID
        raise


_SEALED_FIELDS = {"request", "requestSessionKey", "requestHMAC", "thumbprint"}
