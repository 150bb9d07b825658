"""Admin API for access rights: grant, revoke, list."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from services.interop_layer.rights import service
from services.interop_layer.rights.models import AccessRightCreate, AccessRightPublic
from services.interop_layer.runtime import reload_directory
from services.kernel.credentials import AdminDep
from services.kernel.db import SessionDep

router = APIRouter(prefix="/admin/rights", tags=["access rights (admin)"])


@router.get("", summary="Access rights, optionally of one client or provider")
def list_rights(
    session: SessionDep, _: AdminDep, client: str | None = None, provider: str | None = None
) -> list[AccessRightPublic]:
    rights = service.list_rights(session=session, client=client, provider=provider)
    return [service.public(r) for r in rights]


@router.post("", status_code=201, summary="Grant a service (optionally narrowed to endpoints)")
def grant(
    request: Request, session: SessionDep, _: AdminDep, data: AccessRightCreate
) -> AccessRightPublic:
    right = service.grant(session=session, data=data)
    reload_directory(request.app)
    return service.public(right)


@router.delete("/{right_id}", status_code=204, summary="Revoke an access right")
def revoke(request: Request, session: SessionDep, _: AdminDep, right_id: str) -> Response:
    service.revoke(session=session, right_id=right_id)
    reload_directory(request.app)
    return Response(status_code=204)
