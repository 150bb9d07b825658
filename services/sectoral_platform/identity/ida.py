"""eKYC against the ID system through the mediator, as the health subsystem."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

import httpx

from services.kernel.credentials import partner_id
from services.kernel.mediator import MediatorClient, provider_unreached
from services.kernel.time import iso_millis_z, utcnow

ID_SYSTEM = "id_registry"
DEFAULT_MISP_LICENSE_KEY = "dpi-sandbox-misp-license-key"


class IdSystemUnavailable(Exception):
    """The mediator or the ID system did not answer usefully: try again later."""


@dataclass
class KycResult:
    ok: bool
    token: str | None
    identity: dict[str, Any]
    error_code: str | None = None
    error_message: str | None = None


def kyc_request(
    *,
    individual_id: str,
    id_type: str,
    demographics: dict[str, Any] | None,
    otp: str | None,
    transaction_id: str | None,
) -> dict[str, Any]:
    request: dict[str, Any] = {}
    if demographics:
        request["demographics"] = demographics
    if otp:
        request["otp"] = otp
    return {
        "id": "mosip.identity.kyc",
        "version": "1.0",
        "requestTime": iso_millis_z(utcnow()),
        "transactionID": transaction_id or f"{secrets.randbelow(10**10):010d}",
        "individualId": individual_id,
        "individualIdType": id_type,
        "consentObtained": True,
        "request": request,
    }


class IdaClient:
    """Calls `/idauthentication/v1/kyc/...` on the ID system's `idauth` service, mediated."""

    def __init__(self, *, license_key: str, api_key: str, mediator: MediatorClient) -> None:
        self.license_key = license_key
        self.api_key = api_key
        self.mediator = mediator

    async def kyc(self, body: dict[str, Any]) -> KycResult:
        partner = partner_id(self.mediator.member_id)
        path = f"idauth/idauthentication/v1/kyc/{self.license_key}/{partner}/{self.api_key}"
        try:
            response = await self.mediator.call("POST", ID_SYSTEM, path, json=body, timeout=5.0)
        except httpx.HTTPError as exc:
            raise IdSystemUnavailable(f"mediator unreachable: {type(exc).__name__}") from exc
        if provider_unreached(response) or response.status_code in (404, 408, 429):
            raise IdSystemUnavailable(f"mediator answered {response.status_code}")
        try:
            answer = response.json()
        except ValueError as exc:
            raise IdSystemUnavailable("the ID system's answer is not JSON") from exc
        errors = answer.get("errors") or []
        result = answer.get("response") or {}
        if response.status_code == 200 and result.get("kycStatus") and result.get("authToken"):
            return KycResult(True, result["authToken"], result.get("identity") or {})
        first = errors[0] if errors else {}
        return KycResult(
            False,
            None,
            {},
            first.get("errorCode") or f"HTTP-{response.status_code}",
            first.get("errorMessage") or response.text[:200],
        )
