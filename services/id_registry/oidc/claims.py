"""Which user claims a login may release, which factors it may use, and the claims' values."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from services.id_registry.identities.models import Identity
from services.id_registry.partners.models import Policy

# OIDC standard claim -> the IDA eKYC attribute a partner's policy must allow for it.
CLAIM_ATTRIBUTE = {
    "name": "fullName",
    "given_name": "givenName",
    "family_name": "familyName",
    "birthdate": "dateOfBirth",
    "gender": "gender",
    "address": "address",
    "phone_number": "phone",
    "email": "email",
}
SCOPE_CLAIMS = {
    "profile": ["name", "given_name", "family_name", "birthdate", "gender"],
    "email": ["email"],
    "phone": ["phone_number"],
    "address": ["address"],
}
SCOPES = ["openid", *SCOPE_CLAIMS]
# eSignet's authentication context classes and the IDA factor each stands for.
ACR_FACTOR = {"mosip:idp:acr:generated-code": "otp", "mosip:idp:acr:knowledge": "demo"}
FACTOR_ACR = {factor: acr for acr, factor in ACR_FACTOR.items()}
FACTOR_AMR = {"otp": "otp", "demo": "kba"}  # RFC 8176 method names


@dataclass(frozen=True, slots=True)
class Resolved:
    claims: list[str]
    essential: list[str]


def policy_claims(policy: Policy) -> set[str]:
    allowed = set(policy.kyc_attributes())
    return {claim for claim, attribute in CLAIM_ATTRIBUTE.items() if attribute in allowed}


def parse_claims_parameter(raw: str | None) -> dict[str, bool]:
    """The `claims` request parameter's userinfo members: claim -> essential.
    Raises ValueError when it is not the JSON object OIDC Core 5.5 describes."""
    if raw is None or raw == "":
        return {}
    try:
        data = json.loads(raw)
    except ValueError:
        raise ValueError("claims is not JSON") from None
    if not isinstance(data, dict):
        raise ValueError("claims must be a JSON object")
    userinfo = data.get("userinfo") or {}
    if not isinstance(userinfo, dict) or not isinstance(data.get("id_token") or {}, dict):
        raise ValueError("claims.userinfo and claims.id_token must be objects")
    requested: dict[str, bool] = {}
    for name, detail in userinfo.items():
        if detail is not None and not isinstance(detail, dict):
            raise ValueError(f"claims.userinfo.{name} must be null or an object")
        essential = (detail or {}).get("essential", False)
        if not isinstance(essential, bool):
            raise ValueError(f"claims.userinfo.{name}.essential must be a boolean")
        requested[name] = essential
    return requested


def resolve(
    *, scopes: list[str], requested: dict[str, bool], client_claims: list[str], policy: Policy
) -> Resolved:
    """eSignet's rule: a claim asked for by scope or by `claims`, and registered for the client;
    here it must also be released by the partner's policy. Unknown claims are ignored."""
    by_scope = {claim for scope in scopes for claim in SCOPE_CLAIMS.get(scope, [])}
    allowed = policy_claims(policy)
    claims = [
        claim
        for claim in CLAIM_ATTRIBUTE
        if claim in client_claims and claim in allowed and (claim in by_scope or claim in requested)
    ]
    return Resolved(claims=claims, essential=[c for c in claims if requested.get(c, False)])


def factors(*, client_acrs: list[str], policy: Policy, acr_values: list[str]) -> list[str]:
    """The IDA factors a login may use: registered for the client and allowed by the policy;
    narrowed to `acr_values` when any of those apply (a voluntary request, OIDC Core 3.1.2.1)."""
    usable = [
        ACR_FACTOR[acr]
        for acr in client_acrs
        if acr in ACR_FACTOR and ACR_FACTOR[acr] in policy.allowedAuthTypes
    ]
    wanted = [factor for factor in usable if FACTOR_ACR[factor] in acr_values]
    return wanted or usable


def claim_values(identity: Identity, claims: Iterable[str]) -> dict[str, Any]:
    values: dict[str, Any] = {
        "name": identity.full_name,
        "given_name": identity.given_name,
        "family_name": identity.family_name,
        "birthdate": identity.date_of_birth.isoformat(),
        "gender": identity.gender,
        "address": {"formatted": identity.address} if identity.address else None,
        "phone_number": identity.phone,
        "email": identity.email,
    }
    return {claim: values[claim] for claim in claims if values.get(claim) is not None}
