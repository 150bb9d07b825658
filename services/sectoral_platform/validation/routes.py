"""`/api/validation/dataSet/{ds}`, `/api/dataAnalysis/validationRules`, `/api/predictors/run`
and `/api/predictors/{uid}/run`."""

from __future__ import annotations

from datetime import date
from typing import Any

import orjson
from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from services.kernel.db import DatabaseDep
from services.sectoral_platform.aggregate.periods import parse_period
from services.sectoral_platform.auth.deps import ScopeDep
from services.sectoral_platform.dhis2.endpoints import check_parameters, refuse
from services.sectoral_platform.dhis2.web import json_response
from services.sectoral_platform.errors import Dhis2Error, bad_request, conflict, web_message
from services.sectoral_platform.metadata.deps import StoreDep
from services.sectoral_platform.metadata.store import MetadataStore
from services.sectoral_platform.validation import predictors, rules

router = APIRouter(prefix="/api", tags=["validation"], dependencies=[Depends(check_parameters)])
ANALYSIS_FIELDS = frozenset({"ou", "startDate", "endDate", "vrg", "notification", "persist"})


def _date(raw: Any, name: str) -> date:
    if not raw:
        raise conflict(f"Required parameter missing: `{name}`")
    try:
        return date.fromisoformat(str(raw)[:10])
    except ValueError as exc:
        raise conflict(f"Invalid date `{raw}` for `{name}`") from exc


def _name(store: MetadataStore, plural: str, uid: str) -> str:
    return str((store.get(plural, uid) or {}).get("name") or uid)


def _view(store: MetadataStore, v: rules.Violation) -> dict[str, Any]:
    """DHIS2's ValidationResultView."""
    unit = store.get("organisationUnits", v.unit) or {}
    above = v.path.strip("/").split("/")[:-1]
    ancestors = [_name(store, "organisationUnits", uid) for uid in above]
    obj = v.rule.obj
    return {
        "validationRuleId": v.rule.uid,
        "validationRuleDescription": obj.get("description") or obj.get("name"),
        "organisationUnitId": v.unit,
        "organisationUnitDisplayName": unit.get("name"),
        "organisationUnitPath": v.path,
        "organisationUnitAncestorNames": " / ".join(ancestors) + (" / " if ancestors else ""),
        "periodId": v.period.id,
        "periodDisplayName": v.period.name,
        "attributeOptionComboId": v.combo,
        "attributeOptionComboDisplayName": _name(store, "categoryOptionCombos", v.combo),
        "importance": obj.get("importance") or "MEDIUM",
        "leftSideValue": v.left,
        "operator": rules.SYMBOLS[v.rule.operator],
        "rightSideValue": v.right,
    }


@router.post("/dataAnalysis/validationRules", summary="Validation rule analysis")
async def validation_analysis(
    request: Request, database: DatabaseDep, store: StoreDep, scope: ScopeDep
) -> Response:
    scope.user.require("F_RUN_VALIDATION")
    try:
        body = orjson.loads(await request.body())
    except orjson.JSONDecodeError as exc:
        raise bad_request(f"JSON parse error: {exc}") from exc
    if not isinstance(body, dict):
        raise bad_request("JSON parse error: expected an object")
    for name in ("notification", "persist"):
        if body.get(name) not in (None, False, "false"):
            refuse(name, str(body[name]).lower())
    ou = body.get("ou")
    if not ou or store.get("organisationUnits", str(ou)) is None:
        raise conflict(f"Organisation unit not found: `{ou}`", "E7200")
    scope.require_analytics(str(ou))
    start, end = _date(body.get("startDate"), "startDate"), _date(body.get("endDate"), "endDate")
    if start > end:
        raise conflict("Start date must be before end date", "E2004")
    chosen = rules.rules_for(store, body.get("vrg") or None)
    if chosen is None:
        raise conflict(f"Validation rule group not found: `{body.get('vrg')}`")
    found = await run_in_threadpool(
        lambda: rules.analyse(
            engine=database.engine, store=store, rules=chosen, root=str(ou), start=start, end=end
        )
    )
    if not found:
        return json_response(web_message(200, "Validation passed successfully"))
    return json_response([_view(store, v) for v in found[: rules.MAX_RESULTS]])


def _day_in_period(period_start: date, period_end: date) -> int:
    """Days of the period passed when validated (all of them for a past period)."""
    return max((min(date.today(), period_end) - period_start).days + 1, 0)


@router.get("/validation/dataSet/{ds}", summary="Validate a data set for a period and unit")
def validate_data_set(
    ds: str, request: Request, database: DatabaseDep, store: StoreDep, scope: ScopeDep
) -> Response:
    params = request.query_params
    data_set = store.get("dataSets", ds)
    if data_set is None:
        raise Dhis2Error(f"Data set not found: `{ds}`", status_code=404, error_code="E1005")
    period = parse_period(params.get("pe") or "")
    if period is None:
        raise conflict(f"Period is not valid: `{params.get('pe')}`")
    ou = params.get("ou") or ""
    if store.get("organisationUnits", ou) is None:
        raise conflict(f"Organisation unit not found: `{ou}`")
    scope.require_view(ou)
    aoc = params.get("aoc") or None
    chosen = [r for r in rules.rules_for_data_set(store, data_set) if r.period_type == period.type]
    found = rules.analyse(
        engine=database.engine, store=store, rules=chosen, root=ou, start=period.start,
        end=period.end, selected_only=True, combo=aoc,
    )  # fmt: skip
    return json_response(
        {
            "validationRuleViolations": [
                {
                    "validationRule": {"id": v.rule.uid, "name": v.rule.obj.get("name")},
                    "period": {"id": v.period.id},
                    "organisationUnit": {"id": v.unit},
                    "attributeOptionCombo": {"id": v.combo},
                    "leftsideValue": v.left,
                    "rightsideValue": v.right,
                    "dayInPeriod": _day_in_period(v.period.start, v.period.end),
                    "notificationSent": False,
                }
                for v in found
            ],
            "commentRequiredViolations": [],
        }
    )


async def _run(
    request: Request, database: DatabaseDep, store: StoreDep, scope: ScopeDep, which: list[Any]
) -> Response:
    scope.user.require("F_PREDICTOR_RUN")
    params = request.query_params
    start = _date(params.get("startDate"), "startDate")
    end = _date(params.get("endDate"), "endDate")
    if start > end:
        raise conflict("Start date must be before end date", "E2004")
    summary = await run_in_threadpool(
        lambda: predictors.run(
            engine=database.engine,
            store=store,
            scope=scope,
            predictors=which,
            start=start,
            end=end,
        )
    )
    return json_response(
        web_message(200, f"Generated {summary.predictions} predictions", response=summary.to_json())
    )


@router.post("/predictors/run", summary="Run every predictor over a date range")
async def run_all(
    request: Request, database: DatabaseDep, store: StoreDep, scope: ScopeDep
) -> Response:
    return await _run(request, database, store, scope, store.all("predictors"))


@router.post("/predictors/{uid}/run", summary="Run one predictor over a date range")
async def run_one(
    uid: str, request: Request, database: DatabaseDep, store: StoreDep, scope: ScopeDep
) -> Response:
    found = store.get("predictors", uid)
    if found is None:
        raise Dhis2Error(f"Predictor not found: `{uid}`", status_code=404, error_code="E1005")
    return await _run(request, database, store, scope, [found])
