"""The two services the mediator asks before forwarding a request about a person.

Both sit behind small protocols so tests (and a sandbox without those services) can use fakes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import httpx

from services.interop_layer.errors import ConsentDenied, ProviderTimeout, ProviderUnreachable
from services.kernel.credentials import MEDIATOR_KEY_HEADER, mediator_key


class SubjectRefused(ConsentDenied):
    """The ID system does not know the subject, or the identity is not active (fail closed)."""

    # X-Road has no consent gate: the fault is an access denial, the message tells the cause


@dataclass(frozen=True, slots=True)
class Decision:
    decision: str
    decision_id: str
    consent_record_id: str | None
    reason: str


class TokenExchanger(Protocol):
    async def exchange(
        self, *, from_partner: str, token: str, to_partners: list[str]
    ) -> dict[str, str]: ...


class DecisionClient(Protocol):
    async def decide(
        self,
        *,
        subject: str,
        data_consumer: str,
        data_provider: str,
        purpose: str,
        data_categories: list[str],
    ) -> Decision: ...


async def _post(client: httpx.AsyncClient, what: str, path: str, body: object) -> httpx.Response:
    try:
        return await client.post(path, json=body)
    except httpx.TimeoutException as exc:
        raise ProviderTimeout(f"The {what} did not answer in time.") from exc
    except httpx.HTTPError as exc:
        raise ProviderUnreachable(f"The {what} is unreachable: {type(exc).__name__}.") from exc


class HttpTokenExchanger:
    """`POST {id_registry}/v1/token-exchange` with the mediator's key."""

    def __init__(self, client: httpx.AsyncClient, secret: str) -> None:
        self.client = client
        self.client.headers.update({MEDIATOR_KEY_HEADER: mediator_key(secret)})

    async def exchange(
        self, *, from_partner: str, token: str, to_partners: list[str]
    ) -> dict[str, str]:
        body = {"fromPartnerId": from_partner, "token": token, "toPartnerIds": to_partners}
        response = await _post(self.client, "identity system", "/v1/token-exchange", body)
        if response.status_code in (404, 409):
            reason = "unknown" if response.status_code == 404 else "not active"
            raise SubjectRefused(f"The subject's identity is {reason}; the request is refused.")
        if response.status_code != 200:
            raise ProviderUnreachable(
                f"The identity system answered {response.status_code} to the token exchange."
            )
        tokens = response.json().get("tokens") or {}
        missing = [p for p in to_partners if not isinstance(tokens.get(p), str)]
        if missing:
            raise ProviderUnreachable(f"The token exchange returned no token for {missing}.")
        return {p: str(tokens[p]) for p in to_partners}


class HttpDecisionClient:
    """`POST {consent}/v1/decisions` with the mediator's key."""

    def __init__(self, client: httpx.AsyncClient, secret: str) -> None:
        self.client = client
        self.client.headers.update({MEDIATOR_KEY_HEADER: mediator_key(secret)})

    async def decide(
        self,
        *,
        subject: str,
        data_consumer: str,
        data_provider: str,
        purpose: str,
        data_categories: list[str],
    ) -> Decision:
        body = {
            "subject": subject,
            "dataConsumer": data_consumer,
            "dataProvider": data_provider,
            "purpose": purpose,
            "dataCategories": data_categories,
        }
        response = await _post(self.client, "consent service", "/v1/decisions", body)
        if response.status_code != 200:
            raise ProviderUnreachable(
                f"The consent service answered {response.status_code} to the decision request."
            )
        data = response.json()
        return Decision(
            decision=str(data.get("decision", "deny")),
            decision_id=str(data.get("decisionId", "")),
            consent_record_id=data.get("consentRecordId"),
            reason=str(data.get("reason", "")),
        )
