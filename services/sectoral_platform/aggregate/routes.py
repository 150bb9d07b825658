"""`/api/dataValueSets` and `/api/dataValues`."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import orjson
from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response, StreamingResponse

from services.kernel.db import Database, DatabaseDep
from services.sectoral_platform.aggregate import exchange, setoptions
from services.sectoral_platform.aggregate.formats import write_csv_rows
from services.sectoral_platform.aggregate.idschemes import IdSchemes
from services.sectoral_platform.aggregate.importing import import_streamed, register_complete
from services.sectoral_platform.aggregate.periods import canonical
from services.sectoral_platform.aggregate.reads import (
    read_one,
    stream_csv_rows,
    stream_values,
    value_set_query,
)
from services.sectoral_platform.aggregate.service import import_data_values
from services.sectoral_platform.aggregate.summary import (
    ImportOptions,
    ImportSummary,
    format_error,
    merge,
)
from services.sectoral_platform.aggregate.xmlsafe import FormatError
from services.sectoral_platform.auth.deps import ScopeDep
from services.sectoral_platform.auth.scope import Kind, Scope
from services.sectoral_platform.dhis2.endpoints import check_parameters
from services.sectoral_platform.dhis2.params import int_param
from services.sectoral_platform.dhis2.web import json_response, parse_bool
from services.sectoral_platform.errors import Dhis2Error, bad_request, not_implemented, web_message
from services.sectoral_platform.metadata.deps import StoreDep
from services.sectoral_platform.metadata.schema import DEFAULT_CATEGORY_OPTION_COMBO
from services.sectoral_platform.metadata.store import MetadataStore
from services.sectoral_platform.runtime import RuntimeDep

router = APIRouter(prefix="/api", tags=["aggregate"], dependencies=[Depends(check_parameters)])


def _summary_response(summary: ImportSummary) -> Response:
    response = summary.to_json()
    if summary.status == "SUCCESS":
        body = web_message(200, "Import was successful.", status="OK", response=response)
        return json_response(body)
    if summary.status == "WARNING":
        message = "One more conflicts encountered, please check import summary."
        return json_response(web_message(409, message, status="WARNING", response=response), 409)
    message = "An error occurred, please check import summary."
    return json_response(web_message(409, message, status="ERROR", response=response), 409)


def _raise_first_conflict(summary: ImportSummary) -> None:
    if summary.conflicts:
        first = summary.conflicts[0]
        raise Dhis2Error(first["value"], status_code=409, error_code=first["errorCode"])


@router.post("/dataValueSets", summary="Import a data value set (ImportSummary)")
async def post_data_value_set(
    request: Request, database: DatabaseDep, store: StoreDep, scope: ScopeDep, runtime: RuntimeDep
) -> Response:
    scope.user.require("F_DATAVALUE_ADD")
    params = request.query_params
    options = ImportOptions.parse(
        strategy=params.get("importStrategy") or params.get("strategy") or "CREATE_AND_UPDATE",
        dry_run=parse_bool(params.get("dryRun")),
    )
    fmt = exchange.import_format(request)
    setoptions.resolve({}, options, params, store)  # the request's schemes, checked before reading
    header = parse_bool(params.get("firstRowIsHeader"), True)
    if not parse_bool(params.get("async")):
        summary = await import_streamed(request, database, store, scope, options, header)
        return _summary_response(summary)
    data = await exchange.read_body(request)
    try:
        bodies = exchange.parse_bodies(fmt, data, store, header)
    except FormatError as error:
        return _summary_response(format_error(options, str(error)))
    own = bodies[0] if fmt in ("json", "xml") else {}
    effective, schemes = setoptions.resolve(own, options, params, store)
    exchange.to_uids(schemes, bodies)

    def run() -> ImportSummary:
        total: ImportSummary | None = None
        offset = 0
        for body in bodies:
            part = import_data_values(
                engine=database.engine, store=store, scope=scope, body=body, options=effective
            )
            register_complete(database, store, scope, effective, body, part)
            total = merge(total, part, offset)
            values = body.get("dataValues")
            offset += len(values) if isinstance(values, list) else 0
        total = total or ImportSummary(options=options)
        total.options = options  # the request's, as DHIS2's summary shows them
        return total

    started = await runtime.value_set_jobs.start(scope.user.uid, run)
    return json_response(web_message(200, "Initiated DATAVALUE_IMPORT", response=started))


@router.get("/dataValueSets", summary="Read data values (JSON, CSV, XML or ADX by Accept)")
def get_data_value_set(
    request: Request, database: DatabaseDep, store: StoreDep, scope: ScopeDep
) -> Response:
    return _export(request, database, store, scope, None)


@router.get("/dataValueSets.{suffix}", summary="Read data values in the suffix's format")
def get_data_value_set_as(
    suffix: str, request: Request, database: DatabaseDep, store: StoreDep, scope: ScopeDep
) -> Response:
    return _export(request, database, store, scope, suffix)


def _export(
    request: Request, database: Database, store: MetadataStore, scope: Scope, suffix: str | None
) -> Response:
    fmt = exchange.export_format(request, suffix)
    params = request.query_params
    schemes = IdSchemes.parse(store, params)
    query = value_set_query(
        store=store,
        scope=scope,
        data_sets=[schemes.to_uid("dataSet", d) for d in params.getlist("dataSet")],
        data_elements=[schemes.to_uid("dataElement", d) for d in params.getlist("dataElement")],
        periods=params.getlist("period"),
        start=params.get("startDate"),
        end=params.get("endDate"),
        org_units=[schemes.to_uid("orgUnit", o) for o in params.getlist("orgUnit")],
        children=parse_bool(params.get("children")),
        aoc=params.get("attributeOptionCombo"),
        limit=int_param(params, "limit", 0, minimum=0) if params.get("limit") else None,
        last_updated=params.get("lastUpdated"),
        last_updated_duration=params.get("lastUpdatedDuration"),
    )
    body: Iterator[bytes]
    if fmt == "csv" and schemes.all_uid:
        body = (c.encode() for c in write_csv_rows(stream_csv_rows(database.engine, query)))
    else:
        body = exchange.render(fmt, query.head, stream_values(database.engine, query), schemes)
    if suffix and suffix.endswith(".gz"):
        return StreamingResponse(exchange.gzipped(body), media_type="application/gzip")
    return StreamingResponse(body, media_type=exchange.MEDIA[fmt])


def _key(values: dict[str, Any]) -> tuple[str, str, str, str, str]:
    missing = [name for name in ("de", "pe", "ou") if not values.get(name)]
    if missing:
        raise Dhis2Error(f"Required parameter missing: {', '.join(missing)}", status_code=409)
    return (
        str(values["de"]),
        canonical(str(values["pe"])),
        str(values["ou"]),
        str(values.get("co") or DEFAULT_CATEGORY_OPTION_COMBO),
        str(values.get("ao") or values.get("cc") or DEFAULT_CATEGORY_OPTION_COMBO),
    )


@router.get("/dataValues", summary="One data value")
def get_data_value(request: Request, database: DatabaseDep, scope: ScopeDep) -> Response:
    key = _key(dict(request.query_params))
    if scope.store.get("organisationUnits", key[2]) is not None:
        scope.require_view(key[2])
    found = read_one(database.engine, key)
    if found is None:
        raise Dhis2Error("Data value does not exist", status_code=404, error_code="E2032")
    return json_response([found.get("value")])


def _require_capture(scope: Scope, org_unit: str) -> None:
    """Before the existence check, so a delete cannot probe for values outside the scope."""
    if scope.store.get("organisationUnits", org_unit) is not None and not scope.covers(
        Kind.CAPTURE, org_unit
    ):
        raise Dhis2Error(
            f"Organisation unit: `{org_unit}` not in hierarchy of current user: `{scope.username}`",
            status_code=409,
            error_code="E7620",
        )


async def _single(request: Request) -> dict[str, Any]:
    """Query parameters, or DHIS2's JSON body form (`dataElement`, `period`, ...)."""
    values: dict[str, Any] = dict(request.query_params)
    raw = await request.body()
    if raw.strip():
        try:
            body = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            raise bad_request(f"JSON parse error: {exc}") from exc
        if isinstance(body, dict):
            attribute = body.get("attribute")  # DHIS2's DataValueCategoryDto: combo and options
            if isinstance(attribute, dict) and (attribute.get("combo") or attribute.get("options")):
                raise not_implemented(
                    "Data value property `attribute` is defined by DHIS2 but not implemented here"
                )
            aliases = {
                "dataElement": "de",
                "period": "pe",
                "orgUnit": "ou",
                "categoryOptionCombo": "co",
                "attributeOptionCombo": "ao",
                "dataSet": "ds",
            }
            for name, value in body.items():
                values[aliases.get(str(name), str(name))] = value
    return values


def _with_data_set(
    store: MetadataStore, values: dict[str, Any], row: dict[str, Any]
) -> dict[str, Any]:
    """`ds`: DHIS2 checks it exists and holds the data element, then takes its period type,
    input periods and locking instead of those of every data set holding the element."""
    ds = values.get("ds")
    if not ds:
        return {"dataValues": [row]}
    data_set = store.get("dataSets", str(ds))
    if data_set is None:
        message = f"Data set not found or not accessible: `{ds}`"
        raise Dhis2Error(message, status_code=409, error_code="E1105")
    elements = {
        (i.get("dataElement") or {}).get("id") for i in data_set.get("dataSetElements") or []
    }
    if row["dataElement"] not in elements:
        message = f"Data set: `{ds}` does not contain data element: `{row['dataElement']}`"
        raise Dhis2Error(message, status_code=409, error_code="E2021")
    return {"dataSet": str(ds), "dataValues": [row]}


@router.post("/dataValues", summary="Save one data value", status_code=201)
async def post_data_value(
    request: Request, database: DatabaseDep, store: StoreDep, scope: ScopeDep
) -> Response:
    scope.user.require("F_DATAVALUE_ADD")
    values = await _single(request)
    key = _key(values)
    row = {
        "dataElement": key[0],
        "period": key[1],
        "orgUnit": key[2],
        "categoryOptionCombo": key[3],
        "attributeOptionCombo": key[4],
        "value": values.get("value"),
        "comment": values.get("comment"),
        "followup": parse_bool(str(values.get("followUp", "false"))),
    }
    body = _with_data_set(store, values, row)
    summary = await run_in_threadpool(
        lambda: import_data_values(engine=database.engine, store=store, scope=scope, body=body)
    )
    _raise_first_conflict(summary)
    return Response(status_code=201)


@router.delete("/dataValues", summary="Delete one data value", status_code=204)
async def delete_data_value(
    request: Request, database: DatabaseDep, store: StoreDep, scope: ScopeDep
) -> Response:
    scope.user.require("F_DATAVALUE_ADD")  # DHIS2 2.41+ deletes under the data-write authority
    values = await _single(request)
    key = _key(values)
    _require_capture(scope, key[2])
    if read_one(database.engine, key) is None:
        raise Dhis2Error(
            "Data value cannot be deleted because it does not exist",
            status_code=404,
            error_code="E2032",
        )
    row = {
        "dataElement": key[0],
        "period": key[1],
        "orgUnit": key[2],
        "categoryOptionCombo": key[3],
        "attributeOptionCombo": key[4],
    }
    body = _with_data_set(store, values, row)
    summary = await run_in_threadpool(
        lambda: import_data_values(
            engine=database.engine,
            store=store,
            scope=scope,
            body=body,
            options=ImportOptions(strategy="DELETE"),
        )
    )
    _raise_first_conflict(summary)
    return Response(status_code=204)
