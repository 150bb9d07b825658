"""Grant, revoke and list access rights (deny by default)."""

from __future__ import annotations

import uuid

from sqlmodel import Session, select

from services.interop_layer.catalogue.models import ServiceEntry
from services.interop_layer.catalogue.service import check_endpoints
from services.interop_layer.errors import NotFound
from services.interop_layer.identifiers import service_id
from services.interop_layer.members.service import require_subsystem
from services.interop_layer.rights.models import (
    ROOM_CODES,
    AccessRight,
    AccessRightCreate,
    AccessRightPublic,
)


def public(right: AccessRight) -> AccessRightPublic:
    return AccessRightPublic.model_validate(right.model_dump())


def grant(*, session: Session, data: AccessRightCreate) -> AccessRight:
    """Grant (or replace the endpoints of) a right; the service must exist, or be a room code."""
    client = require_subsystem(session=session, member_id=data.client).id
    provider = require_subsystem(session=session, member_id=data.provider).id
    if data.service_code not in ROOM_CODES and (
        session.get(ServiceEntry, service_id(provider, data.service_code)) is None
    ):
        raise NotFound(
            f"No service {data.service_code} at {provider}.",
            code="Server.ServerProxy.unknown_service",
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
