"""`/api/tracker`: imports (sync and async jobs) and reads of entities, enrollments, events."""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from services.kernel.db import DatabaseDep
from services.sectoral_platform.auth.deps import ScopeDep
from services.sectoral_platform.auth.scope import Kind, Scope
from services.sectoral_platform.dhis2.endpoints import check_parameters
from services.sectoral_platform.dhis2.web import json_response, parse_bool
from services.sectoral_platform.errors import bad_request, not_found, web_message
from services.sectoral_platform.metadata.deps import StoreDep, base_url
from services.sectoral_platform.runtime import RuntimeDep, SectoralRuntime
from services.sectoral_platform.tracker import payload_fields, reads, relationship_reads, wire
from services.sectoral_platform.tracker.bundle import Bundle, ImportParams, flatten
from services.sectoral_platform.tracker.importer import import_bundle
from services.sectoral_platform.tracker.jobs import job_log
from services.sectoral_platform.tracker.meta import TrackerMeta

router = APIRouter(
    prefix="/api/tracker", tags=["tracker"], dependencies=[Depends(check_parameters)]
)
TE_EXCLUDED = ("relationships", "enrollments", "events", "programOwners")


def cascade_rights(scope: Scope) -> tuple[bool, bool]:
    """Whether the caller may delete tracked entities with enrollments, enrollments with
    events."""
    held = scope.user.authorities
    return (
        scope.superuser or "F_TEI_CASCADE_DELETE" in held,
        scope.superuser or "F_ENROLLMENT_CASCADE_DELETE" in held,
    )


@router.post("", summary="Import tracked entities, enrollments and events")
async def post_tracker(
    request: Request, runtime: RuntimeDep, database: DatabaseDep, store: StoreDep, scope: ScopeDep
) -> Response:
    query = request.query_params
    params = ImportParams.parse(dict(query))  # a bad parameter is refused before the body is read
    try:
        body = orjson.loads(await request.body())
    except orjson.JSONDecodeError as exc:
        raise bad_request(f"JSON parse error: {exc}") from exc
    params.user = scope.username
    params.cascade = cascade_rights(scope)
    bundle = flatten(body)
    _check_times(bundle)
    if parse_bool(query.get("async"), True):
        runner = runtime.tracker_jobs
        uid = await run_in_threadpool(
            lambda: runner.submit(
                body=body, params=params, user=scope.user.uid, capture=scope.capture_limit()
            )
        )
        runner.wake()
        location = f"{base_url(request)}/api/tracker/jobs/{uid}"
        response = {"id": uid, "location": location}
        return json_response(web_message(200, "Tracker job added", response=response))
    report = await run_in_threadpool(
        lambda: import_bundle(
            engine=database.engine,
            store=store,
            bundle=bundle,
            params=params,
            capture=scope.capture_limit(),
        )
    )
    return json_response(report, 409 if report["status"] == "ERROR" else 200)


def _check_times(bundle: Bundle) -> None:
    """An unreadable client timestamp is DHIS2's JSON parse error: nothing is imported."""
    for kind, objs in bundle.by_kind():
        for obj in objs:
            for name in payload_fields.bad_times(kind, obj):
                raise bad_request(
                    f"JSON parse error: `{name}` of {kind} is not a date-time: {obj[name]!r}"
                )


def _job(runtime: SectoralRuntime, uid: str, scope: Scope) -> dict[str, Any]:
    """A job and its report are its submitter's (and the superuser's) to read."""
    job = runtime.tracker_jobs.job(uid)
    if job is None or not (scope.superuser or job["user"] == scope.user.uid):
        raise not_found(f"Job with id `{uid}` could not be found.", None)
    return job


@router.get("/jobs/{uid}", summary="The log of a tracker import job")
def get_job(runtime: RuntimeDep, uid: str, scope: ScopeDep) -> Response:
    return json_response(job_log(_job(runtime, uid, scope)))


@router.get("/jobs/{uid}/report", summary="The report of a finished tracker import job")
def get_job_report(runtime: RuntimeDep, uid: str, scope: ScopeDep) -> Response:
    job = _job(runtime, uid, scope)
    if job["status"] != "COMPLETED":
        raise not_found(f"Import report for job `{uid}` is not available yet.", None)
    return json_response(job["report"])


def _listing(key: str, items: list[dict[str, Any]], pager: dict[str, Any] | None) -> Response:
    body: dict[str, Any] = {}
    if pager is not None:
        body["pager"] = pager
        body.update(pager)
    body[key] = items
    body["instances"] = items  # the pre-2.41 key, for older clients
    return json_response(body)


@router.get("/trackedEntities", summary="Tracked entities")
def list_tracked_entities(
    request: Request, database: DatabaseDep, store: StoreDep, scope: ScopeDep
) -> Response:
    q = request.query_params
    meta = TrackerMeta(store)
    program, tet = q.get("program"), q.get("trackedEntityType")
    wanted = reads.uid_list(q.get("trackedEntities"), q.get("trackedEntity"))
    if not (program or tet or wanted):
        raise bad_request(
            "Either `program`, `trackedEntityType` or `trackedEntities` should be specified"
        )
    if program and meta.program(program) is None:
        raise bad_request(f"Program is specified but does not exist: `{program}`")
    if tet and meta.tet_mandatory(tet) is None:
        raise bad_request(f"Tracked entity type is specified but does not exist: `{tet}`")
    rows, pager = reads.tracked_entity_page(database.engine, params=q, meta=meta, scope=scope)
    items = _tracked_entities(database, meta, rows, q, scope)
    return _listing("trackedEntities", items, pager)


def _asks(fields: str | None, name: str) -> bool:
    return bool(fields) and name in (fields or "") and f"!{name}" not in (fields or "")


def _tracked_entities(
    database: Any, meta: TrackerMeta, rows: list[dict[str, Any]], q: Any, scope: Scope
) -> list[dict[str, Any]]:
    fields = q.get("fields")
    nested = _asks(fields, "enrollments")
    enrollments = reads.enrollments_of(database.engine, [r["uid"] for r in rows]) if nested else {}
    result = []
    for row in rows:
        obj = wire.tracked_entity(row, meta)
        if nested:
            obj["enrollments"] = [
                {**wire.enrollment(en), "events": [wire.event(ev) for ev in en["events"]]}
                for en in enrollments.get(row["uid"], [])
            ]
        result.append(obj)
    _relationships(database, meta, result, "trackedEntity", fields, scope)
    return [wire.select_fields(obj, fields, TE_EXCLUDED) for obj in result]


def _relationships(
    database: Any,
    meta: TrackerMeta,
    objs: list[dict[str, Any]],
    key: str,
    fields: str | None,
    scope: Scope,
) -> None:
    """Fills `relationships` when `fields` asks for them (DHIS2 leaves them out by default)."""
    if not _asks(fields, "relationships"):
        return
    found = relationship_reads.of_objects(database.engine, [o[key] for o in objs])
    for obj in objs:
        obj["relationships"] = [
            relationship_reads.wire(r, meta.store)
            for r in found.get(obj[key], [])
            if relationship_reads.visible(r, scope)
        ]


@router.get("/trackedEntities/{uid}", summary="One tracked entity")
def get_tracked_entity(
    request: Request, uid: str, database: DatabaseDep, store: StoreDep, scope: ScopeDep
) -> Response:
    row = reads.tracked_entity(database.engine, uid)
    if row is None or not scope.covers_path(Kind.SEARCH, row["ou_path"]):
        raise not_found(f"TrackedEntity with id {uid} could not be found.", None)
    items = _tracked_entities(database, TrackerMeta(store), [row], request.query_params, scope)
    return json_response(items[0])


@router.get("/enrollments", summary="Enrollments")
def list_enrollments(
    request: Request, database: DatabaseDep, store: StoreDep, scope: ScopeDep
) -> Response:
    q = request.query_params
    meta = TrackerMeta(store)
    rows, pager = reads.enrollment_page(database.engine, params=q, meta=meta, scope=scope)
    enrollments = [wire.enrollment(r) for r in rows]
    _relationships(database, meta, enrollments, "enrollment", q.get("fields"), scope)
    items = [wire.select_fields(e, q.get("fields"), ("events",)) for e in enrollments]
    return _listing("enrollments", items, pager)


@router.get("/enrollments/{uid}", summary="One enrollment")
def get_enrollment(
    request: Request, uid: str, database: DatabaseDep, store: StoreDep, scope: ScopeDep
) -> Response:
    row = reads.enrollment(database.engine, uid)
    if row is None or not scope.covers_path(Kind.SEARCH, row["ou_path"]):
        raise not_found(f"Enrollment with id {uid} could not be found.", None)
    events = reads.events_of_enrollment(database.engine, uid)
    body = {**wire.enrollment(row), "events": [wire.event(e) for e in events]}
    fields = request.query_params.get("fields")
    _relationships(database, TrackerMeta(store), [body], "enrollment", fields, scope)
    return json_response(wire.select_fields(body, fields, ()))


@router.get("/events", summary="Events")
def list_events(
    request: Request, database: DatabaseDep, store: StoreDep, scope: ScopeDep
) -> Response:
    q = request.query_params
    meta = TrackerMeta(store)
    rows, pager = reads.event_page(database.engine, params=q, meta=meta, scope=scope)
    events = [wire.event(r) for r in rows]
    _relationships(database, meta, events, "event", q.get("fields"), scope)
    items = [wire.select_fields(e, q.get("fields"), ("relationships",)) for e in events]
    return _listing("events", items, pager)


@router.get("/events/{uid}", summary="One event")
def get_event(
    request: Request, uid: str, database: DatabaseDep, store: StoreDep, scope: ScopeDep
) -> Response:
    row = reads.event(database.engine, uid)
    if row is None or not scope.covers_path(Kind.SEARCH, row["ou_path"]):
        raise not_found(f"Event with id {uid} could not be found.", None)
    fields = request.query_params.get("fields")
    event = wire.event(row)
    _relationships(database, TrackerMeta(store), [event], "event", fields, scope)
    return json_response(wire.select_fields(event, fields, ("relationships",)))


@router.get("/relationships", summary="Relationships of a tracked entity, enrollment or event")
def list_relationships(
    request: Request, database: DatabaseDep, store: StoreDep, scope: ScopeDep
) -> Response:
    q = request.query_params
    rows, pager = relationship_reads.relationship_page(database.engine, params=q, scope=scope)
    items = [
        wire.select_fields(relationship_reads.wire(r, store), q.get("fields"), ()) for r in rows
    ]
    return _listing("relationships", items, pager)


@router.get("/relationships/{uid}", summary="One relationship")
def get_relationship(
    request: Request, uid: str, database: DatabaseDep, store: StoreDep, scope: ScopeDep
) -> Response:
    row = relationship_reads.relationship(database.engine, uid)
    if row is None or not relationship_reads.visible(row, scope):
        raise not_found(f"Relationship with id {uid} could not be found.", None)
    body = relationship_reads.wire(row, store)
    return json_response(wire.select_fields(body, request.query_params.get("fields"), ()))
