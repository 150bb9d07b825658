"""`/api/apps`: install (multipart `file`, a zip), list, serve files, uninstall.

Not org unit data: installing and removing needs `M_DHIS_WEB_APP_MANAGEMENT`; opening an app
needs its own authority (`M_<key>`), as DHIS2 checks.
"""

from __future__ import annotations

from email.message import Message
from email.parser import BytesParser
from email.policy import HTTP

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from services.kernel.db import DatabaseDep
from services.kernel.runtime import kernel_state
from services.sectoral_platform.apps.bundle import read_bundle
from services.sectoral_platform.apps.service import (
    APP_MANAGEMENT,
    CONTENT_SECURITY_POLICY,
    install,
    listed,
    serve,
    uninstall,
)
from services.sectoral_platform.auth.deps import CurrentUserDep
from services.sectoral_platform.dhis2.endpoints import check_parameters
from services.sectoral_platform.dhis2.web import json_response, parse_bool
from services.sectoral_platform.errors import bad_request, not_found
from services.sectoral_platform.settings import SectoralSettings

router = APIRouter(prefix="/api/apps", tags=["apps"], dependencies=[Depends(check_parameters)])


def base_url(request: Request) -> str:
    return str(request.base_url).rstrip("/")


@router.post("", summary="Install an app (multipart `file`: a zip with manifest.webapp)")
async def install_app(request: Request, database: DatabaseDep, user: CurrentUserDep) -> Response:
    user.require(APP_MANAGEMENT)
    data = _file_part(request.headers.get("content-type", ""), await request.body())
    settings = kernel_state(request.app).settings
    assert isinstance(settings, SectoralSettings)
    limits = {"max_bytes": settings.app_max_bytes, "max_unpacked": settings.app_max_unpacked_bytes}
    bundle = await run_in_threadpool(lambda: read_bundle(data, **limits))
    await run_in_threadpool(install, database.engine, bundle)
    return Response(status_code=204)


def _file_part(content_type: str, body: bytes) -> bytes:
    """The `file` part of a multipart/form-data body."""
    if not content_type.lower().startswith("multipart/form-data"):
        raise bad_request("Current request is not a multipart request")
    head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode()
    message = BytesParser(policy=HTTP).parsebytes(head + body)
    for part in message.iter_parts() if message.is_multipart() else []:
        name = part.get_param("name", header="content-disposition")
        if isinstance(part, Message) and name == "file":
            payload = part.get_payload(decode=True)
            if isinstance(payload, bytes):
                return payload
    raise bad_request("Required request part 'file' is not present")


@router.get("", summary="The apps the caller may open")
async def list_apps(request: Request, database: DatabaseDep, user: CurrentUserDep) -> Response:
    apps = await run_in_threadpool(listed, database.engine, user, base_url(request))
    key = request.query_params.get("key")
    if key is not None:
        apps = [app for app in apps if app["key"] == key]
        if not apps:
            raise not_found(f"App '{key}' not found.", None)
    return json_response(apps)


@router.get("/{key}", summary="An installed app's start page")
async def app_start(
    key: str, request: Request, database: DatabaseDep, user: CurrentUserDep
) -> Response:
    return await app_file(key, "", request, database, user)


@router.get("/{key}/{path:path}", summary="A file of an installed app")
async def app_file(
    key: str, path: str, request: Request, database: DatabaseDep, user: CurrentUserDep
) -> Response:
    served = await run_in_threadpool(serve, database.engine, user, key, path, base_url(request))
    headers = {
        "Content-Security-Policy": CONTENT_SECURITY_POLICY,
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "no-cache",
    }
    return Response(served.content, media_type=served.media_type, headers=headers)


@router.delete("/{key}", summary="Uninstall an app (`deleteAppData=true`: its namespace too)")
async def uninstall_app(
    key: str, request: Request, database: DatabaseDep, user: CurrentUserDep
) -> Response:
    user.require(APP_MANAGEMENT)
    delete_data = parse_bool(request.query_params.get("deleteAppData"))
    await run_in_threadpool(lambda: uninstall(database.engine, key, delete_data=delete_data))
    return Response(status_code=204)
