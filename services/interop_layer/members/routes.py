"""Admin API for subsystems and their API keys."""

from __future__ import annotations

from fastapi import APIRouter, Request

from services.interop_layer.members import service
from services.interop_layer.members.models import (
    ClientKeyCreate,
    ClientKeyIssued,
    ClientKeyPublic,
    SubsystemCreate,
    SubsystemPublic,
)
from services.interop_layer.runtime import reload_directory
from services.kernel.credentials import AdminDep
from services.kernel.db import SessionDep

router = APIRouter(prefix="/admin", tags=["members (admin)"])


@router.get("/subsystems", summary="Every registered subsystem")
def list_subsystems(session: SessionDep, _: AdminDep) -> list[SubsystemPublic]:
    return [
        SubsystemPublic.model_validate(s.model_dump())
        for s in service.list_subsystems(session=session)
    ]


@router.post("/subsystems", status_code=201, summary="Register a subsystem")
def register_subsystem(
    request: Request, session: SessionDep, _: AdminDep, data: SubsystemCreate
) -> SubsystemPublic:
    subsystem = service.register_subsystem(session=session, data=data)
    reload_directory(request.app)
    return SubsystemPublic.model_validate(subsystem.model_dump())


@router.post("/keys", status_code=201, summary="Issue an API key (shown once) to a subsystem")
def issue_key(
    request: Request, session: SessionDep, _: AdminDep, data: ClientKeyCreate
) -> ClientKeyIssued:
    issued = service.issue_key(session=session, member_id=data.subsystem, label=data.label)
    reload_directory(request.app)
    return issued


@router.get("/keys", summary="Issued API keys (never the keys themselves)")
def list_keys(
    session: SessionDep, _: AdminDep, subsystem: str | None = None
) -> list[ClientKeyPublic]:
    return service.list_keys(session=session, member_id=subsystem)


@router.delete("/keys/{key_id}", summary="Revoke an API key")
def revoke_key(request: Request, session: SessionDep, _: AdminDep, key_id: str) -> ClientKeyPublic:
    revoked = service.revoke_key(session=session, key_id=key_id)
    reload_directory(request.app)
    return revoked
