"""`/api/completeDataSetRegistrations`: import (ImportSummary), export, delete."""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from services.kernel.db import DatabaseDep
from services.sectoral_platform.aggregate import setoptions
from services.sectoral_platform.aggregate.summary import ImportOptions
from services.sectoral_platform.auth.deps import ScopeDep
from services.sectoral_platform.completeness import service
from services.sectoral_platform.dhis2.endpoints import check_parameters
from services.sectoral_platform.dhis2.web import json_response, parse_bool
from services.sectoral_platform.errors import Dhis2Error, bad_request, web_message
from services.sectoral_platform.metadata.deps import StoreDep
from services.sectoral_platform.metadata.schema import DEFAULT_CATEGORY_OPTION_COMBO

router = APIRouter(prefix="/api", tags=["completeness"], dependencies=[Depends(check_parameters)])
PATH = "/completeDataSetRegistrations"
BODY_REFUSED = ("idScheme", "dataSetIdScheme", "orgUnitIdScheme", "attributeOptionComboIdScheme")


def _options(request: Request, strategy: str | None = None) -> ImportOptions:
    params = request.query_params
    return ImportOptions.parse(
        strategy=strategy or params.get("importStrategy") or "CREATE_AND_UPDATE",
        dry_run=parse_bool(params.get("dryRun")),
    )


@router.post(PATH, summary="Register data sets complete (ImportSummary)")
async def post_registrations(
    request: Request, database: DatabaseDep, store: StoreDep, scope: ScopeDep
) -> Response:
    scope.user.require("F_DATAVALUE_ADD")
    options = _options(request)  # a bad parameter is refused before the body is read
    try:
        body = orjson.loads(await request.body())
    except orjson.JSONDecodeError as exc:
        raise bad_request(f"JSON parse error: {exc}") from exc
    items = body.get("completeDataSetRegistrations") if isinstance(body, dict) else None
    if not isinstance(items, list):
        raise bad_request("JSON parse error: `completeDataSetRegistrations` must be a list")
    # the set's own `dryRun` and `strategy` win over the request's, as in DHIS2's ImportConfig;
    # its id schemes are refused as the query's are
    setoptions.refuse_present(body, BODY_REFUSED, "Complete data set registrations")
    for item in items:  # the attribute option combo by category combo and options
        if isinstance(item, dict):
            setoptions.refuse_present(item, ("cc", "cp"), "Complete data set registration")
    summary = await run_in_threadpool(
        service.register,
        database.engine,
        store,
        scope,
        items,
        setoptions.own_options(body, options),
    )
    summary.options = options  # the request's, as DHIS2's summary shows them
    status = 200 if summary.status == "SUCCESS" else 409
    message = "Import was successful." if status == 200 else "One more conflicts encountered."
    web_status = "OK" if status == 200 else summary.status
    return json_response(
        web_message(status, message, status=web_status, response=summary.to_json()), status
    )


@router.get(PATH, summary="Data set completeness registrations")
def get_registrations(
    request: Request, database: DatabaseDep, store: StoreDep, scope: ScopeDep
) -> Response:
    params = request.query_params
    found = service.read(
        database.engine,
        store,
        scope,
        data_sets=params.getlist("dataSet"),
        periods=params.getlist("period"),
        start=params.get("startDate"),
        end=params.get("endDate"),
        org_units=params.getlist("orgUnit"),
        children=parse_bool(params.get("children")),
    )
    return json_response({"completeDataSetRegistrations": found})


@router.delete(PATH, summary="Unregister a data set's completeness", status_code=204)
def delete_registration(
    request: Request, database: DatabaseDep, store: StoreDep, scope: ScopeDep
) -> Response:
    scope.user.require("F_DATAVALUE_ADD")  # the data-write authority, as registering
    params = request.query_params
    missing = [n for n in ("ds", "pe", "ou") if not params.get(n)]
    if missing:
        raise Dhis2Error(f"Required parameter missing: {', '.join(missing)}", status_code=409)
    item: dict[str, Any] = {
        "dataSet": params["ds"],
        "period": params["pe"],
        "organisationUnit": params["ou"],
        "attributeOptionCombo": DEFAULT_CATEGORY_OPTION_COMBO,
    }
    summary = service.register(
        database.engine, store, scope, [item], ImportOptions(strategy="DELETE")
    )
    if summary.conflicts:
        first = summary.conflicts[0]
        raise Dhis2Error(first["value"], status_code=409, error_code=first["errorCode"])
    if summary.count.deleted == 0:
        raise Dhis2Error("Complete registration does not exist", status_code=404)
    return Response(status_code=204)
