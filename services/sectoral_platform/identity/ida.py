"""eKYC against the ID system through the mediator, as the health subsystem (MOSIP IDA's
encrypted and signed envelopes: see `ida_envelope`)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

import httpx
import orjson

from services.kernel.credentials import partner_id
from services.kernel.mediator import MediatorClient, provider_unreached
from services.kernel.partner_keys import PartnerKey
from services.kernel.time import iso_millis_z, utcnow
from services.sectoral_platform.identity.ida_envelope import (
    IdSystemCertificates,
    SealError,
    open_identity,
    seal,
    sign,
    verify_response,
)

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
    """Calls `/idauthentication/v1/kyc/...` on the ID system's `idauth` service, mediated. With a
    key (`own_key`) as a real MOSIP relying party: encrypted and signed requests, a verified
    and decrypted answer; without one, plaintext (allowed only for the scenario partners)."""

    def __init__(
        self,
        *,
        license_key: str,
        api_key: str,
        mediator: MediatorClient,
        own_key: PartnerKey | None = None,
    ) -> None:
        self.license_key = license_key
        self.api_key = api_key
        self.mediator = mediator
        self.own_key = own_key
        self._certificates: IdSystemCertificates | None = None

    async def _call(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            response = await self.mediator.call(method, ID_SYSTEM, path, timeout=5.0, **kwargs)
        except httpx.HTTPError as exc:
            raise IdSystemUnavailable(f"mediator unreachable: {type(exc).__name__}") from exc
        if provider_unreached(response) or response.status_code in (404, 408, 429):
            raise IdSystemUnavailable(f"mediator answered {response.status_code}")
        return response

    async def certificates(self) -> IdSystemCertificates:
        """The ID system's partner-encryption and signing certificates, fetched once."""
        if self._certificates is None:
            pems = []
            for reference in ("PARTNER", "SIGN"):
                response = await self._call(
                    "GET",
                    "idauth/v1/keymanager/getCertificate",
                    params={"applicationId": "IDA", "referenceId": reference},
                )
                try:
                    pems.append(response.json()["response"]["certificate"])
                except (ValueError, KeyError, TypeError) as exc:
                    raise IdSystemUnavailable("the ID system's certificate is unreadable") from exc
            try:
                self._certificates = IdSystemCertificates.from_pem(*pems)
            except ValueError as exc:
                raise IdSystemUnavailable("the ID system's certificate is unreadable") from exc
        return self._certificates

    async def kyc(self, body: dict[str, Any]) -> KycResult:
        partner = partner_id(self.mediator.member_id)
        path = f"idauth/idauthentication/v1/kyc/{self.license_key}/{partner}/{self.api_key}"
        if self.own_key is None:
            return _result(await self._call("POST", path, json=body))
        result = KycResult(False, None, {})
        for _attempt in range(2):
            ida = await self.certificates()
            raw = orjson.dumps(seal(body, ida))
            headers = {"content-type": "application/json", "Signature": sign(raw, self.own_key)}
            response = await self._call("POST", path, content=raw, headers=headers)
            result = _result(response)
            if result.error_code == "IDA-MPA-004":  # the ID system's key changed: fetch again
                self._certificates = None
                continue
            if result.ok:
                try:
                    signature = response.headers.get("response-signature")
                    verify_response(signature, response.content, ida)
                    result.identity = open_identity(response.json()["response"], self.own_key)
                except SealError as exc:
                    raise IdSystemUnavailable(str(exc)) from exc
            return result
        return result


def _result(response: httpx.Response) -> KycResult:
    try:
        answer = response.json()
    except ValueError as exc:
        raise IdSystemUnavailable("the ID system's answer is not JSON") from exc
    errors = answer.get("errors") or []
    result = answer.get("response") or {}
    if response.status_code == 200 and result.get("kycStatus") and result.get("authToken"):
        identity = result.get("identity")
        return KycResult(True, result["authToken"], identity if isinstance(identity, dict) else {})
    first = errors[0] if errors else {}
    return KycResult(
        False,
        None,
        {},
        first.get("errorCode") or f"HTTP-{response.status_code}",
        first.get("errorMessage") or response.text[:200],
    )
