"""`/api/me` and personal access tokens (`/api/apiToken`)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from services.kernel.db import SessionDep
from services.sectoral_platform.auth.deps import CurrentUserDep
from services.sectoral_platform.auth.service import create_token, revoke_token, tokens_of
from services.sectoral_platform.dhis2.endpoints import check_parameters
from services.sectoral_platform.dhis2.web import json_response
from services.sectoral_platform.errors import bad_request, not_found, web_message
from services.sectoral_platform.metadata.deps import ViewerDep
from services.sectoral_platform.metadata.fields import parse_fields, render

router = APIRouter(prefix="/api", tags=["users"], dependencies=[Depends(check_parameters)])

ME_FIELDS = (
    "id,username,displayName,name,firstName,surname,email,authorities,created,lastUpdated,"
    "organisationUnits[id],dataViewOrganisationUnits[id],teiSearchOrganisationUnits[id],"
    "userRoles[id,name]"
)


@router.get("/me", summary="The current user")
def me(request: Request, viewer: ViewerDep, user: CurrentUserDep) -> Response:
    data = viewer.store.get("users", user.uid) or {"id": user.uid}
    fields = request.query_params.get("fields")
    body = render(viewer, "users", data, parse_fields(fields or ME_FIELDS))
    if not fields:
        body["authorities"] = sorted(user.authorities)
        body["programs"] = [p["id"] for p in viewer.store.all("programs")]
        body["dataSets"] = [d["id"] for d in viewer.store.all("dataSets")]
        body["settings"] = {"keyUiLocale": "en", "keyDbLocale": "en"}
        body.setdefault("userCredentials", {"username": user.username})
    return json_response(body)


@router.get("/me/authorization", summary="The current user's authorities")
def my_authorities(user: CurrentUserDep) -> Response:
    return json_response(sorted(user.authorities))


@router.post("/apiToken", status_code=201, summary="Create a personal access token")
async def create_api_token(request: Request, session: SessionDep, user: CurrentUserDep) -> Response:
    try:
        body: Any = await request.json() if await request.body() else {}
    except ValueError as exc:
        raise bad_request(f"JSON parse error: {exc}") from exc
    expire = body.get("expire") if isinstance(body, dict) else None
    if expire is not None and not isinstance(expire, int):
        raise bad_request("`expire` must be epoch milliseconds")
    row, key = create_token(session, owner=user.uid, expire=expire)
    response = {
        "responseType": "ApiTokenCreationResponse",
        "uid": row.uid,
        "klass": "org.hisp.dhis.security.apikey.ApiToken",
        "errorReports": [],
        "key": key,
    }
    return json_response(web_message(201, None, response=response), status_code=201)


@router.get("/apiToken", summary="My personal access tokens")
def list_api_tokens(session: SessionDep, user: CurrentUserDep) -> Response:
    rows = tokens_of(session=session, owner=user.uid)
    return json_response(
        {
            "pager": {"page": 1, "total": len(rows), "pageSize": 50, "pageCount": 1},
            "apiToken": [
                {
                    "id": r.uid,
                    "created": r.created,
                    "expire": r.expire,
                    "type": "PERSONAL_ACCESS_TOKEN",
                }
                for r in rows
            ],
        }
    )


@router.delete("/apiToken/{uid}", summary="Revoke a personal access token")
def delete_api_token(uid: str, session: SessionDep, user: CurrentUserDep) -> Response:
    if not revoke_token(session=session, owner=user.uid, uid=uid):
        raise not_found(f"ApiToken with id {uid} could not be found.")
    return json_response(
        web_message(200, None, response={"responseType": "ObjectReport", "uid": uid})
    )
