"""Grant, revoke and list access rights (deny by default)."""

from __future__ import annotations

import uuid

from sqlmodel import Session, select

from services.interop_layer.catalogue.models import ServiceEntry
from services.interop_layer.catalogue.service import check_endpoints
from services.interop_layer.errors import BadRequest, NotFound
from services.interop_layer.identifiers import canonical_client, is_member, service_id
from services.interop_layer.members.models import Subsystem
from services.interop_layer.members.service import require_subsystem
from services.interop_layer.rights.models import (
    ROOM_CODES,
    AccessRight,
    AccessRightCreate,
    AccessRightPublic,
)


def require_client(*, session: Session, client: str, service_code: str) -> str:
    """A registered subsystem, or a member with one (its rights cover calls without subsystem)."""
    try:
        client = canonical_client(client)
    except ValueError as exc:
        raise BadRequest(str(exc)) from exc
    if not is_member(client):
        return require_subsystem(session=session, member_id=client).id
    if service_code in ROOM_CODES:
        raise BadRequest("Pub/sub rooms are for subsystems; a member-level client cannot join.")
    if not any(s.id.startswith(client + "/") for s in session.exec(select(Subsystem))):
        raise NotFound(f"Unknown member {client}.", code="Server.ClientProxy.UnknownMember")
    return client


def public(right: AccessRight) -> AccessRightPublic:
    return AccessRightPublic.model_validate(right.model_dump())


def grant(*, session: Session, data: AccessRightCreate) -> AccessRight:
    """Grant (or replace the endpoints of) a right; the service must exist, or be a room code."""
    client = require_client(session=session, client=data.client, service_code=data.service_code)
    provider = require_subsystem(session=session, member_id=data.provider).id
    if data.service_code not in ROOM_CODES and (
        session.get(ServiceEntry, service_id(provider, data.service_code)) is None
    ):
        raise NotFound(
            f"No service {data.service_code} at {provider}.",
            code="Server.ServerProxy.UnknownService",
        )
    check_endpoints(data.endpoints, consent_required=False)
    endpoints = [e.model_dump() for e in data.endpoints]
    right = session.exec(
        select(AccessRight).where(
            AccessRight.client == client,
            AccessRight.provider == provider,
            AccessRight.service_code == data.service_code,
        )
    ).first()
    if right is None:
        right = AccessRight(
            id=str(uuid.uuid4()),
            client=client,
            provider=provider,
            service_code=data.service_code,
            endpoints=endpoints,
        )
    else:
        right.endpoints = endpoints
    session.add(right)
    session.commit()
    return right


def list_rights(
    *, session: Session, client: str | None = None, provider: str | None = None
) -> list[AccessRight]:
    query = select(AccessRight).order_by(AccessRight.client, AccessRight.provider)
    if client:
        query = query.where(AccessRight.client == client)
    if provider:
        query = query.where(AccessRight.provider == provider)
    return list(session.exec(query))


def revoke(*, session: Session, right_id: str) -> None:
    right = session.get(AccessRight, right_id)
    if right is None:
        raise NotFound(f"No access right {right_id}.")
    session.delete(right)
    session.commit()
