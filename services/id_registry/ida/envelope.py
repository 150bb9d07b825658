"""IDA request envelopes: plaintext, or with `request` encrypted (opened by `ida.gate`)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal, TypeVar

import orjson
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
)

from services.id_registry.errors import MosipError
from services.kernel.unimplemented import NOT_IMPLEMENTED, refuse_given

AUTH_ID = "mosip.identity.auth"
KYC_ID = "mosip.identity.kyc"
OTP_ID = "mosip.identity.otp"


# Refused by name (IDA-MLC-009) rather than dropped: an authentication must never succeed on
# fewer factors or attributes than the partner sent.
Unimplemented = Annotated[Any, BeforeValidator(refuse_given("MOSIP IDA"))]


def invalid_parameter(error: Any, where: str) -> str:
    """MOSIP's `Invalid Input Parameter - <name>`, saying so when the sandbox lacks the part."""
    message = f"Invalid Input Parameter - {where}"
    if error["type"] == NOT_IMPLEMENTED:
        message += f" ({error['msg']})"
    return message


class LangValue(BaseModel):
    language: str = Field(min_length=2, max_length=3)
    value: str = Field(max_length=300)


class Demographics(BaseModel):
    model_config = ConfigDict(extra="ignore")

    name: list[LangValue] | None = None
    dob: str | None = Field(default=None, pattern=r"^\d{4}/\d{2}/\d{2}$")
    gender: list[LangValue] | None = None
    age: int | None = Field(default=None, ge=0, le=150)
    phoneNumber: str | None = Field(default=None, max_length=40)
    emailId: str | None = Field(default=None, max_length=200)
    fullAddress: list[LangValue] | None = None
    # MOSIP's IdentityDTO attributes the sandbox does not match on
    dobType: Unimplemented = None
    addressLine1: Unimplemented = None
    addressLine2: Unimplemented = None
    addressLine3: Unimplemented = None
    location1: Unimplemented = None
    location2: Unimplemented = None
    location3: Unimplemented = None
    postalCode: Unimplemented = None

    def given(self) -> dict[str, Any]:
        return {key: value for key, value in self.model_dump().items() if value is not None}

    def any_given(self) -> bool:
        return any(getattr(self, name) is not None for name in _DEMOGRAPHIC_FIELDS)


_DEMOGRAPHIC_FIELDS = tuple(
    name for name, field in Demographics.model_fields.items() if field.annotation is not Any
)


class AuthRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")

    timestamp: str | None = None
    otp: str | None = Field(default=None, pattern=r"^\d{4,8}$")
    demographics: Demographics | None = None
    # MOSIP's other factors: not modelled (the docs' "What is not modelled")
    biometrics: Unimplemented = None
    staticPin: Unimplemented = None
    keyBindedTokens: Unimplemented = None
    password: Unimplemented = None


def _timestamp(value: str) -> str:
    try:
        datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise ValueError("not an ISO-8601 timestamp") from exc
    return value


class _Envelope(BaseModel):
    model_config = ConfigDict(extra="ignore")

    version: str = Field(min_length=1, max_length=10)
    requestTime: str
    transactionID: str = Field(pattern=r"^[A-Za-z0-9-]{1,64}$")
    individualId: str = Field(min_length=1, max_length=64)
    individualIdType: Literal["UIN", "VID"]

    @field_validator("requestTime")
    @classmethod
    def _check_time(cls, value: str) -> str:
        return _timestamp(value)


class _Sealable(_Envelope):
    """`request` is the plain object, or base64url ciphertext with the session key, the HMAC
    and the certificate's thumbprint beside it (`ida.gate` replaces it with the plain object)."""

    consentObtained: bool
    request: AuthRequest | str
    requestSessionKey: str | None = Field(default=None, max_length=2048)
    requestHMAC: str | None = Field(default=None, max_length=2048)
    thumbprint: str | None = Field(default=None, max_length=128)

    def plain(self) -> AuthRequest:
        assert isinstance(self.request, AuthRequest), "opened by ida.gate before use"
        return self.request


class AuthEnvelope(_Sealable):
    id: Literal["mosip.identity.auth"]


class KycEnvelope(_Sealable):
    id: Literal["mosip.identity.kyc"]
    allowedKycAttributes: list[str] | None = None


class OtpEnvelope(_Envelope):
    id: Literal["mosip.identity.otp"]
    otpChannel: list[Literal["PHONE", "EMAIL"]] = Field(min_length=1)

    @field_validator("otpChannel", mode="before")
    @classmethod
    def _upper(cls, value: object) -> object:
        if isinstance(value, list):
            return [item.upper() if isinstance(item, str) else item for item in value]
        return value


E = TypeVar("E", bound=_Envelope)
_UNION_MEMBERS = frozenset({"AuthRequest", "str"})
Sealable = AuthEnvelope | KycEnvelope


def parse_envelope(raw: bytes, model: type[E], default_id: str) -> E:
    """Parse and validate, or raise IDA-MLC-006 (missing) / IDA-MLC-009 (invalid), HTTP 200
    with `errors[]` as MOSIP answers."""
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise MosipError(
            "IDA-MLC-009",
            "Invalid Input Parameter - body is not JSON",
            status_code=200,
            envelope_id=default_id,
        ) from None
    if not isinstance(data, dict):
        raise MosipError(
            "IDA-MLC-009",
            "Invalid Input Parameter - body is not an object",
            status_code=200,
            envelope_id=default_id,
        )
    envelope_id = data.get("id") if isinstance(data.get("id"), str) else default_id
    transaction = data.get("transactionID")
    transaction_id = transaction if isinstance(transaction, str) else None
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        # a union's member names (`request.AuthRequest.otp`) are not the client's field names
        where = ".".join(str(part) for part in first["loc"] if part not in _UNION_MEMBERS)
        missing = first["type"] == "missing"
        if where == "otpChannel" and missing:
            raise MosipError(
                "IDA-OTA-008",
                status_code=200,
                envelope_id=envelope_id,
                transaction_id=transaction_id,
            ) from None
        raise MosipError(
            "IDA-MLC-006" if missing else "IDA-MLC-009",
            f"Missing Input Parameter - {where}" if missing else invalid_parameter(first, where),
            status_code=200,
            envelope_id=envelope_id,
            transaction_id=transaction_id,
        ) from None
