"""Admin API of the message log: query, trace view, status, verification, retention purge."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Query
from pydantic import BaseModel

from services.interop_layer.errors import NotFound
from services.interop_layer.messagelog.models import (
    LogRecord,
    PurgeReport,
    VerifyReport,
    public_record,
)
from services.interop_layer.messagelog.service import query_records, status_counts
from services.interop_layer.messagelog.verify import KnownHead, verify_session
from services.interop_layer.runtime import RuntimeDep
from services.kernel.credentials import AdminDep
from services.kernel.time import as_utc, utcnow

Outcome = Literal["Successful", "Completed", "Completed with error(s)", "Failed"]
ConsentFilter = Literal["permit", "deny", "none"]
Order = Literal["asc", "desc"]

router = APIRouter(prefix="/admin/messagelog", tags=["message log (admin)"])
public = APIRouter(prefix="/messagelog", tags=["message log"])


@router.get(
    "/records",
    summary="Query exchanges by X-Road-Id, trace, client, provider, service, status, consent",
)
async def records(
    runtime: RuntimeDep,
    _: AdminDep,
    x_road_id: Annotated[str | None, Query(alias="xRoadId")] = None,
    trace_id: Annotated[str | None, Query(alias="traceId")] = None,
    client: str | None = None,
    service: str | None = None,
    kind: str | None = None,
    provider: str | None = None,
    outcome: Annotated[Outcome | None, Query()] = None,
    status_code: Annotated[int | None, Query(alias="statusCode", ge=100, le=599)] = None,
    purpose: str | None = None,
    consent: Annotated[ConsentFilter | None, Query()] = None,
    after_seq: Annotated[int | None, Query(alias="afterSeq", ge=0)] = None,
    before_seq: Annotated[int | None, Query(alias="beforeSeq", ge=1)] = None,
    order: Annotated[Order, Query()] = "asc",
    since: datetime | None = None,
    until: datetime | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
    include_bodies: Annotated[bool, Query(alias="includeBodies")] = False,
) -> dict[str, Any]:
    writer = runtime.message_log
    await writer.flush()
    found = await writer.run_locked(
        lambda session: query_records(
            session=session,
            x_road_id=x_road_id,
            trace_id=trace_id,
            client=client,
            service=service,
            kind=kind,
            provider=provider,
            outcome=outcome,
            status_code=status_code,
            purpose=purpose,
            consent=consent,
            after_seq=after_seq,
            before_seq=before_seq,
            newest_first=order == "desc",
            since=since,
            until=until,
            limit=limit,
            offset=offset,
        )
    )
    return {
        "count": len(found),
        "records": [public_record(r, bodies=include_bodies) for r in found],
    }


@router.get("/records/{seq}", summary="One record, bodies included when stored")
async def record(runtime: RuntimeDep, _: AdminDep, seq: int) -> dict[str, Any]:
    writer = runtime.message_log
    await writer.flush()
    found = await writer.run_locked(lambda session: session.get(LogRecord, seq))
    if found is None:
        raise NotFound(f"No message log record {seq}.")
    return public_record(found, bodies=True)


@router.get("/traces/{trace_id}", summary="Every exchange of one W3C trace, in order")
async def trace(runtime: RuntimeDep, _: AdminDep, trace_id: str) -> dict[str, Any]:
    writer = runtime.message_log
    await writer.flush()
    found = await writer.run_locked(
        lambda session: query_records(session=session, trace_id=trace_id, limit=1000)
    )
    return {"traceId": trace_id, "records": [public_record(r) for r in found]}


@router.get("/status", summary="Exchanges per OpenHIM status, in flight, chain position")
async def status(runtime: RuntimeDep, _: AdminDep) -> dict[str, Any]:
    writer = runtime.message_log
    await writer.flush()
    counts = await writer.run_locked(
        lambda session: status_counts(session=session, replica=writer.replica)
    )
    counts["statuses"]["Processing"] = runtime.exchanges_in_flight
    counts["bodies"] = runtime.settings.message_log_bodies
    return counts


@router.post(
    "/verify",
    summary="Verify every replica's hash chain and signatures; name the first bad record",
)
async def verify(runtime: RuntimeDep, _: AdminDep) -> VerifyReport:
    writer = runtime.message_log
    await writer.flush()
    anchor = writer.trust.anchor
    known = (
        []
        if anchor is None
        else [KnownHead(anchor.seq, anchor.record_hash, "head anchor", anchor.replica)]
    )
    return await writer.run_locked(
        lambda session: verify_session(
            session, pinned=writer.trust.pinned, known=known, replica=writer.replica
        )
    )


@public.get("/keys", summary="The public keys that sign the message log (pin them to verify)")
async def keys(runtime: RuntimeDep) -> dict[str, Any]:
    pinned = runtime.message_log.trust.pinned
    return {
        "algorithm": "Ed25519",
        "keys": [{"keyId": key_id, "publicKey": pem} for key_id, pem in sorted(pinned.items())],
    }


class PurgeRequest(BaseModel):
    before: datetime | None = None


@router.post("/purge", summary="Retention: purge old records, keep the rest verifiable")
async def purge(
    runtime: RuntimeDep, _: AdminDep, body: Annotated[PurgeRequest | None, Body()] = None
) -> PurgeReport:
    before = body.before if body and body.before else None
    if before is None:
        days = runtime.settings.message_log_retention_days
        before = utcnow() - timedelta(days=days)
    return await runtime.message_log.purge(before=as_utc(before))
