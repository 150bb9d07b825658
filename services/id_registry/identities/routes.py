"""Admin API for identities: enrol, read, list, update, deactivate, block, unblock."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query

from services.id_registry.deps import NowDep, RuntimeDep, SettingsDep
from services.id_registry.errors import MosipError, error_item
from services.id_registry.identities import batch, service
from services.id_registry.identities.models import (
    BatchEnrolment,
    IdentityBatch,
    IdentityCreate,
    IdentityUpdate,
    StatusChange,
)
from services.kernel.credentials import AdminDep
from services.kernel.db import SessionDep

router = APIRouter(prefix="/v1/identities", tags=["identities (admin)"])


@router.post("", status_code=201, summary="Enrol a person and issue a UIN")
def enrol(
    data: IdentityCreate,
    runtime: RuntimeDep,
    session: SessionDep,
    settings: SettingsDep,
    now: NowDep,
    _: AdminDep,
) -> dict[str, Any]:
    identity = service.enrol(
        session=session,
        data=data,
        secret=runtime.secret,
        now=now,
        publish=settings.publish_events,
    )
    runtime.drainer.notify()
    return service.identity_public(identity)


@router.post(
    "/batch",
    summary="Enrol many people in one transaction",
    response_model=None,
    responses={200: {"model": BatchEnrolment}},
    description=(
        "Up to `DPI_ID_REGISTRY_MAX_BATCH_ENROLMENTS` people (1,000 by default; more: 413, "
        "nothing enrolled), each item as the body of `POST /v1/identities`. One invalid item "
        "refuses the whole batch (422, its index in `errors[0].details`). Otherwise one result "
        "per person, in order: `201` with the UIN issued, or `409` with the error enrolling "
        "that person alone gives (`IDR-IDC-003` naming the UIN of the stored record, or of an "
        "earlier person of the same batch). Each enrolment publishes `identity-created`."
    ),
)
def enrol_batch(
    data: IdentityBatch,
    runtime: RuntimeDep,
    session: SessionDep,
    settings: SettingsDep,
    now: NowDep,
    _: AdminDep,
) -> dict[str, Any]:
    limit = settings.max_batch_enrolments
    if len(data.identities) > limit:
        raise MosipError(
            "IDA-MLC-009",
            f"A batch enrols at most {limit} people; this one holds {len(data.identities)}",
            status_code=413,
        )
    outcomes = batch.enrol_batch(
        session=session,
        people=data.identities,
        secret=runtime.secret,
        now=now,
        publish=settings.publish_events,
    )
    runtime.drainer.notify()
    results: list[dict[str, Any]] = [
        {"status": 201, "UIN": outcome}
        if isinstance(outcome, str)
        else {"status": outcome.status, "errors": [error_item(outcome.code, outcome.message)]}
        for outcome in outcomes
    ]
    enrolled = sum(1 for outcome in outcomes if isinstance(outcome, str))
    return {"enrolled": enrolled, "refused": len(outcomes) - enrolled, "results": results}


@router.get("", summary="List identities (for scenarios and tests)")
def list_identities(
    session: SessionDep,
    _: AdminDep,
    offset: int = Query(default=0, ge=0),
    limit: int = Query(default=50, ge=1, le=500),
) -> list[dict[str, Any]]:
    rows = service.list_identities(session=session, offset=offset, limit=limit)
    return [service.identity_public(row) for row in rows]


@router.get("/{uin}", summary="Read one identity")
def read(uin: str, session: SessionDep, _: AdminDep) -> dict[str, Any]:
    return service.identity_public(service.get_by_uin(session=session, uin=uin))


@router.patch("/{uin}", summary="Update demographics")
def update(
    uin: str,
    data: IdentityUpdate,
    runtime: RuntimeDep,
    session: SessionDep,
    now: NowDep,
    _: AdminDep,
) -> dict[str, Any]:
    identity = service.update(session=session, uin=uin, data=data, now=now)
    runtime.people.invalidate()  # not to be served from the IDA cache
    return service.identity_public(identity)


@router.post("/{uin}/deactivate", summary="Deactivate (e.g. on death); publishes an event")
def deactivate(
    uin: str,
    runtime: RuntimeDep,
    session: SessionDep,
    now: NowDep,
    _: AdminDep,
    data: StatusChange | None = None,
) -> dict[str, Any]:
    identity = service.deactivate(
        session=session,
        uin=uin,
        reason=data.reason if data else None,
        secret=runtime.secret,
        now=now,
    )
    runtime.people.invalidate()  # not to be served from the IDA cache
    runtime.drainer.notify()
    return service.identity_public(identity)


@router.post("/{uin}/block", summary="Block authentication for this identity")
def block(
    uin: str,
    runtime: RuntimeDep,
    session: SessionDep,
    now: NowDep,
    _: AdminDep,
    data: StatusChange | None = None,
) -> dict[str, Any]:
    identity = service.set_blocked(
        session=session, uin=uin, blocked=True, reason=data.reason if data else None, now=now
    )
    runtime.people.invalidate()  # not to be served from the IDA cache
    return service.identity_public(identity)


@router.post("/{uin}/unblock", summary="Allow authentication again")
def unblock(
    uin: str, runtime: RuntimeDep, session: SessionDep, now: NowDep, _: AdminDep
) -> dict[str, Any]:
    identity = service.set_blocked(session=session, uin=uin, blocked=False, reason=None, now=now)
    runtime.people.invalidate()  # not to be served from the IDA cache
    return service.identity_public(identity)
