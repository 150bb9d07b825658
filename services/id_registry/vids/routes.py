"""VID API in MOSIP ID Repository's shape (`/idrepository/v1/vid`), admin credential."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from services.id_registry.deps import NowDep, SettingsDep
from services.id_registry.errors import response_time
from services.id_registry.settings import IdRegistrySettings
from services.id_registry.vids import service
from services.id_registry.vids.models import VidCreateEnvelope, VidStatusEnvelope
from services.kernel.credentials import AdminDep
from services.kernel.db import SessionDep

router = APIRouter(prefix="/idrepository/v1/vid", tags=["VIDs"])


def _limits(settings: IdRegistrySettings) -> service.VidLimits:
    return service.VidLimits(
        temporary_minutes=settings.temporary_vid_minutes,
        temporary_transactions=settings.temporary_vid_transactions,
    )


def _wrap(envelope_id: str, response: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": envelope_id,
        "version": "v1",
        "responseTime": response_time(),
        "response": response,
        "errors": None,
    }


@router.post("", summary="Create a VID (PERPETUAL or TEMPORARY) for a UIN")
def create(
    body: VidCreateEnvelope, session: SessionDep, settings: SettingsDep, now: NowDep, _: AdminDep
) -> dict[str, Any]:
    vid = service.create_vid(session=session, data=body.request, limits=_limits(settings), now=now)
    return _wrap("mosip.vid.create", service.vid_public(vid, now))


@router.get("/{vid}", summary="Read a VID and the UIN it stands for")
def read(vid: str, session: SessionDep, now: NowDep, _: AdminDep) -> dict[str, Any]:
    row = service.get_vid(session=session, value=vid)
    uin = service.uin_of(session=session, vid=row)
    return _wrap("mosip.vid.read", service.vid_public(row, now, uin=uin))


@router.patch("/{vid}", summary="Change a VID's status (REVOKED)")
def update_status(
    vid: str, body: VidStatusEnvelope, session: SessionDep, now: NowDep, _: AdminDep
) -> dict[str, Any]:
    row = service.revoke_vid(session=session, value=vid, now=now)
    return _wrap("mosip.vid.update", service.vid_public(row, now))


@router.post("/{vid}/regenerate", summary="Revoke a VID and issue a new one of the same type")
def regenerate(
    vid: str, session: SessionDep, settings: SettingsDep, now: NowDep, _: AdminDep
) -> dict[str, Any]:
    row = service.regenerate_vid(session=session, value=vid, limits=_limits(settings), now=now)
    return _wrap("mosip.vid.regenerate", service.vid_public(row, now))
