"""OIDC client management (admin), in eSignet's `/client-mgmt/oidc-client` shape, and the
sandbox's seeded client."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

from fastapi import APIRouter
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from services.id_registry.deps import NowDep
from services.id_registry.errors import MosipError, response_time
from services.id_registry.oidc.claims import CLAIM_ATTRIBUTE
from services.id_registry.oidc.keys import client_public_key
from services.id_registry.oidc.models import (
    CLIENT_ACTIVE,
    ClientCreate,
    ClientCreateEnvelope,
    ClientUpdateEnvelope,
    OidcClient,
)
from services.id_registry.partners.models import Partner
from services.kernel.credentials import AdminDep
from services.kernel.db import SessionDep

# Sandbox only: its private key is published in the repository (and in docs/id_registry.md).
SEED_CLIENT_ID = "moh-hmis-portal"
SEED_PARTNER_ID = "moh-hmis"
SEED_REDIRECT_URIS = ["http://127.0.0.1:8765/callback", "http://localhost:8765/callback"]
SEED_KEY_FILE = Path(__file__).with_name("sandbox_client_key.json")


def _thumbprint(jwk: dict[str, Any]) -> str:
    try:
        return client_public_key(jwk).thumbprint()
    except ValueError as exc:
        raise MosipError("invalid_public_key", str(exc)) from None


def create_client(*, session: Session, data: ClientCreate, now: datetime) -> OidcClient:
    partner = session.get(Partner, data.relyingPartyId)
    if partner is None:
        raise MosipError("invalid_rp_id", f"Partner {data.relyingPartyId!r} is not registered")
    thumbprint = _thumbprint(data.publicKey)
    if session.get(OidcClient, data.clientId) is not None:
        raise MosipError("duplicate_client_id", "Client id already exists", status_code=409)
    if session.exec(select(OidcClient).where(OidcClient.key_thumbprint == thumbprint)).first():
        raise MosipError(
            "duplicate_public_key", "Another client uses this public key", status_code=409
        )
    row = OidcClient(
        client_id=data.clientId,
        name=data.clientName,
        partner_id=partner.partner_id,
        public_key={k: v for k, v in data.publicKey.items() if k in ("kty", "n", "e", "kid")},
        key_thumbprint=thumbprint,
        logo_uri=data.logoUri,
        redirect_uris=data.redirectUris,
        user_claims=list(dict.fromkeys(data.userClaims)),
        auth_context_refs=list(dict.fromkeys(data.authContextRefs)),
        grant_types=list(dict.fromkeys(data.grantTypes)),
        client_auth_methods=list(dict.fromkeys(data.clientAuthMethods)),
        status=CLIENT_ACTIVE,
        created_at=now,
        updated_at=now,
    )
    session.add(row)
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        raise MosipError(
            "duplicate_client_id", "Client id already exists", status_code=409
        ) from None
    return row


def get_client(*, session: Session, client_id: str) -> OidcClient:
    row = session.get(OidcClient, client_id)
    if row is None:
        raise MosipError(
            "invalid_client_id", f"Client {client_id!r} is not registered", status_code=404
        )
    return row


def seed_client(*, session: Session, now: datetime) -> bool:
    """The documented sandbox client of the health partner, once (if that partner exists)."""
    if session.get(OidcClient, SEED_CLIENT_ID) or not session.get(Partner, SEED_PARTNER_ID):
        return False
    private = json.loads(SEED_KEY_FILE.read_text(encoding="utf-8"))
    data = ClientCreate.model_validate(
        {
            "clientId": SEED_CLIENT_ID,
            "clientName": "Health portal (sandbox client)",
            "publicKey": {name: private[name] for name in ("kty", "n", "e", "kid")},
            "relyingPartyId": SEED_PARTNER_ID,
            "logoUri": "http://127.0.0.1:8765/logo.png",
            "redirectUris": SEED_REDIRECT_URIS,
            "userClaims": list(CLAIM_ATTRIBUTE),
            "authContextRefs": ["mosip:idp:acr:generated-code", "mosip:idp:acr:knowledge"],
            "grantTypes": ["authorization_code"],
            "clientAuthMethods": ["private_key_jwt"],
        }
    )
    try:
        create_client(session=session, data=data, now=now)
    except MosipError:
        return False  # another process seeded it first
    return True


router = APIRouter(prefix="/client-mgmt/oidc-client", tags=["OIDC clients (admin)"])


def _answer(response: Any) -> dict[str, Any]:
    return {"responseTime": response_time(), "response": response, "errors": []}


@router.post("", summary="Register an OIDC client for a partner (eSignet client management)")
def create(
    body: ClientCreateEnvelope, session: SessionDep, now: NowDep, _: AdminDep
) -> dict[str, Any]:
    row = create_client(session=session, data=body.request, now=now)
    return _answer({"clientId": row.client_id, "status": row.status})


@router.put("/{client_id}", summary="Update an OIDC client (name, status, URIs, claims, ACRs)")
def update(
    client_id: str, body: ClientUpdateEnvelope, session: SessionDep, now: NowDep, _: AdminDep
) -> dict[str, Any]:
    row = get_client(session=session, client_id=client_id)
    data = body.request
    row.name = data.clientName
    row.status = data.status
    row.logo_uri = data.logoUri
    row.redirect_uris = data.redirectUris
    row.user_claims = list(dict.fromkeys(data.userClaims))
    row.auth_context_refs = list(dict.fromkeys(data.authContextRefs))
    row.grant_types = list(dict.fromkeys(data.grantTypes))
    row.client_auth_methods = list(dict.fromkeys(data.clientAuthMethods))
    row.updated_at = now
    session.add(row)
    session.commit()
    return _answer({"clientId": row.client_id, "status": row.status})


@router.get("", summary="List OIDC clients (sandbox extension)")
def list_clients(session: SessionDep, _: AdminDep) -> dict[str, Any]:
    rows = session.exec(select(OidcClient).order_by(col(OidcClient.client_id))).all()
    return _answer([row.public() for row in rows])


@router.get("/{client_id}", summary="Read an OIDC client (sandbox extension)")
def read(client_id: str, session: SessionDep, _: AdminDep) -> dict[str, Any]:
    return _answer(get_client(session=session, client_id=client_id).public())
