"""Register subsystems, issue and revoke their API keys."""

from __future__ import annotations

import secrets
import uuid

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from services.interop_layer.directory import key_hash
from services.interop_layer.errors import BadRequest, Conflict, NotFound
from services.interop_layer.identifiers import SubsystemId
from services.interop_layer.members.models import (
    ClientKey,
    ClientKeyIssued,
    ClientKeyPublic,
    Subsystem,
    SubsystemCreate,
)
from services.kernel.time import utcnow


def seed_subsystems(*, session: Session, subsystems: dict[str, str]) -> int:
    """Make sure every subsystem of the topology exists; return how many were added."""
    known = {s.id for s in session.exec(select(Subsystem))}
    added = 0
    for member_id, name in subsystems.items():
        if member_id not in known:
            session.add(Subsystem(id=member_id, name=name, source="topology"))
            added += 1
    session.commit()
    return added


def list_subsystems(*, session: Session) -> list[Subsystem]:
    return list(session.exec(select(Subsystem).order_by(Subsystem.id)))


def parse_subsystem(value: str) -> str:
    try:
        return str(SubsystemId.parse(value))
    except ValueError as exc:
        raise BadRequest(str(exc)) from exc


def register_subsystem(*, session: Session, data: SubsystemCreate) -> Subsystem:
    member_id = parse_subsystem(data.id)
    if session.get(Subsystem, member_id) is not None:
        raise Conflict(f"Subsystem {member_id} is already registered.")
    subsystem = Subsystem(id=member_id, name=data.name, source="admin")
    session.add(subsystem)
    try:
        session.commit()
    except IntegrityError as exc:  # another replica registered it since the check above
        session.rollback()
        raise Conflict(f"Subsystem {member_id} is already registered.") from exc
    return subsystem


def require_subsystem(*, session: Session, member_id: str) -> Subsystem:
    subsystem = session.get(Subsystem, parse_subsystem(member_id))
    if subsystem is None:
        raise NotFound(f"Unknown subsystem {member_id}.", code="Server.ClientProxy.UnknownMember")
    return subsystem


def _public(key: ClientKey) -> ClientKeyPublic:
    return ClientKeyPublic(
        id=key.id,
        subsystem=key.subsystem_id,
        label=key.label,
        created_at=key.created_at,
        revoked_at=key.revoked_at,
    )


def issue_key(*, session: Session, member_id: str, label: str) -> ClientKeyIssued:
    """A new API key for a subsystem; only its hash is stored, the key is shown once."""
    subsystem = require_subsystem(session=session, member_id=member_id)
    secret = "im_" + secrets.token_urlsafe(32)
    key = ClientKey(
        id=str(uuid.uuid4()), subsystem_id=subsystem.id, key_hash=key_hash(secret), label=label
    )
    session.add(key)
    session.commit()
    return ClientKeyIssued(**_public(key).model_dump(), key=secret)


def list_keys(*, session: Session, member_id: str | None) -> list[ClientKeyPublic]:
    query = select(ClientKey).order_by(col(ClientKey.created_at))
    if member_id:
        query = query.where(ClientKey.subsystem_id == parse_subsystem(member_id))
    return [_public(key) for key in session.exec(query)]


def revoke_key(*, session: Session, key_id: str) -> ClientKeyPublic:
    key = session.get(ClientKey, key_id)
    if key is None:
        raise NotFound(f"No API key {key_id}.")
    if key.revoked_at is None:
        key.revoked_at = utcnow()
        session.add(key)
        session.commit()
    return _public(key)
