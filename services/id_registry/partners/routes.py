"""Admin API for partners (relying parties) and their policies."""

from __future__ import annotations

from fastapi import APIRouter

from services.id_registry.deps import NowDep, RuntimeDep
from services.id_registry.partners import service
from services.id_registry.partners.models import (
    PartnerCreate,
    PartnerCreated,
    PartnerPublic,
    PartnerUpdate,
)
from services.kernel.credentials import AdminDep
from services.kernel.db import SessionDep
from services.kernel.openapi import errors

router = APIRouter(prefix="/v1/partners", tags=["partners (admin)"])


@router.post(
    "",
    status_code=201,
    summary="Register a partner with a policy; returns its API key",
    responses=errors(409),  # the partner id is taken
)
def create(
    data: PartnerCreate, runtime: RuntimeDep, session: SessionDep, now: NowDep, _: AdminDep
) -> PartnerCreated:
    return service.create_partner(session=session, cache=runtime.partners, data=data, now=now)


@router.get("", summary="List partners")
def list_partners(session: SessionDep, _: AdminDep) -> list[PartnerPublic]:
    return service.list_partners(session=session)


@router.get("/{partner_id}", summary="Read a partner")
def read(partner_id: str, session: SessionDep, _: AdminDep) -> PartnerPublic:
    return service.get_partner(session=session, partner_id=partner_id).public()


@router.patch("/{partner_id}", summary="Change name, policy or status")
def update(
    partner_id: str,
    data: PartnerUpdate,
    runtime: RuntimeDep,
    session: SessionDep,
    now: NowDep,
    _: AdminDep,
) -> PartnerPublic:
    return service.update_partner(
        session=session, cache=runtime.partners, partner_id=partner_id, data=data, now=now
    )


@router.post("/{partner_id}/api-key", summary="Issue a new API key (the old one stops working)")
def rotate(
    partner_id: str, runtime: RuntimeDep, session: SessionDep, now: NowDep, _: AdminDep
) -> PartnerCreated:
    return service.rotate_api_key(
        session=session, cache=runtime.partners, partner_id=partner_id, now=now
    )
