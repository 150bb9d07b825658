"""`/api/dataStore` and `/api/userDataStore`: DHIS2's key-value store for apps.

Not org unit data: the shared store is guarded by namespace protection (apps reserve their
namespace), a user's store holds only that user's entries.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated

from cryptography.fernet import Fernet
from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from services.kernel.db import DatabaseDep
from services.kernel.runtime import kernel_state
from services.sectoral_platform.auth.deps import CurrentUserDep
from services.sectoral_platform.datastore import query as q
from services.sectoral_platform.datastore.models import SHARED
from services.sectoral_platform.datastore.service import EntryQuery, Store, run_query
from services.sectoral_platform.dhis2.endpoints import check_parameters
from services.sectoral_platform.dhis2.params import int_param
from services.sectoral_platform.dhis2.sealing import box_for
from services.sectoral_platform.dhis2.web import json_response, parse_bool
from services.sectoral_platform.errors import Dhis2Error, web_message
from services.sectoral_platform.settings import SectoralSettings

JSON_TYPES = ("application/json", "text/json", "application/x-json")


@dataclass(frozen=True)
class Wording:
    created: str
    updated: str
    deleted: str
    namespace_deleted: str


SHARED_WORDING = Wording(
    "Key created: '{key}'", "Key updated: '{key}'",
    "Key '{key}' deleted from namespace '{namespace}'", "Namespace deleted: '{namespace}'",
)  # fmt: skip
USER_WORDING = Wording(
    "Key '{key}' in namespace '{namespace}' created.",
    "Key '{key}' in namespace '{namespace}' updated.",
    "Key '{key}' deleted from the namespace '{namespace}'.",
    "All keys from namespace '{namespace}' deleted.",
)


def shared_store(request: Request, database: DatabaseDep, user: CurrentUserDep) -> Store:
    return Store(database.engine, _box(request), SHARED, user, protected=True)


def user_store(request: Request, database: DatabaseDep, user: CurrentUserDep) -> Store:
    return Store(database.engine, _box(request), user.uid, user, protected=False)


def _box(request: Request) -> Fernet:
    settings = kernel_state(request.app).settings
    assert isinstance(settings, SectoralSettings)
    return box_for("datastore", settings.secrets_key)


def _message(status: int, text: str) -> Response:
    return json_response(web_message(status, text), status_code=status)


def _json_body(request: Request) -> None:
    kind = request.headers.get("content-type", "application/json").split(";")[0].strip().lower()
    if kind not in JSON_TYPES:
        raise Dhis2Error(f"Content type '{kind}' not supported", status_code=415)


def build(prefix: str, dependency: Callable[..., Store], wording: Wording) -> APIRouter:
    router = APIRouter(prefix=prefix, tags=["dataStore"], dependencies=[Depends(check_parameters)])
    StoreDep = Annotated[Store, Depends(dependency)]

    @router.get("", summary="The namespaces")
    async def namespaces(request: Request, store: StoreDep) -> Response:
        return json_response(await run_in_threadpool(store.namespaces))

    @router.get("/{namespace}/keys", summary="The keys of a namespace")
    async def keys(namespace: str, request: Request, store: StoreDep) -> Response:
        since = request.query_params.get("lastUpdated")
        return json_response(await run_in_threadpool(store.keys, namespace, since))

    @router.get("/{namespace}", summary="The keys, or with `fields=` the entries (query API)")
    async def namespace(namespace: str, request: Request, store: StoreDep) -> Response:
        params = request.query_params
        if "fields" not in params:
            return await keys(namespace, request, store)
        return await _entries(namespace, request, store)

    @router.delete("/{namespace}", summary="Delete every key of a namespace")
    async def delete_namespace(namespace: str, request: Request, store: StoreDep) -> Response:
        await run_in_threadpool(store.delete_namespace, namespace)
        return _message(200, wording.namespace_deleted.format(namespace=namespace))

    @router.get("/{namespace}/{key}", summary="The JSON value of a key")
    async def value(namespace: str, key: str, request: Request, store: StoreDep) -> Response:
        raw = await run_in_threadpool(store.value, namespace, key)
        return Response(raw, media_type="application/json", headers={"Cache-Control": "no-store"})

    @router.get("/{namespace}/{key}/metaData", summary="A key's metadata, without its value")
    async def metadata(namespace: str, key: str, request: Request, store: StoreDep) -> Response:
        return json_response(await run_in_threadpool(store.metadata, namespace, key))

    @router.post("/{namespace}/{key}", summary="Create a key (409 if it exists)")
    async def create(namespace: str, key: str, request: Request, store: StoreDep) -> Response:
        _json_body(request)
        encrypt = parse_bool(request.query_params.get("encrypt"))
        await run_in_threadpool(store.create, namespace, key, await request.body(), encrypt)
        return _message(201, wording.created.format(key=key, namespace=namespace))

    @router.put("/{namespace}/{key}", summary="Update a key, or create it")
    async def put(namespace: str, key: str, request: Request, store: StoreDep) -> Response:
        _json_body(request)
        body = await request.body()
        if not await run_in_threadpool(store.exists, namespace, key):
            return await create(namespace, key, request, store)
        await run_in_threadpool(store.update, namespace, key, body)
        return _message(200, wording.updated.format(key=key, namespace=namespace))

    @router.delete("/{namespace}/{key}", summary="Delete a key")
    async def delete_key(namespace: str, key: str, request: Request, store: StoreDep) -> Response:
        await run_in_threadpool(store.delete_key, namespace, key)
        return _message(200, wording.deleted.format(key=key, namespace=namespace))

    return router


async def _entries(namespace: str, request: Request, store: Store) -> Response:
    params = request.query_params
    order_text = params.get("order")
    order_path, direction = q.parse_order(order_text)
    query = EntryQuery(
        fields=q.parse_fields(params.get("fields") or ""),
        filters=[q.parse_filter(f) for f in params.getlist("filter")],
        junction_and=(params.get("rootJunction") or "AND").upper() != "OR",
        include_all=parse_bool(params.get("includeAll")),
        order_path=order_path,
        order_label=(order_text or "_").partition(":")[0],
        direction=direction,
    )
    rows = await run_in_threadpool(store.values, namespace)
    entries = run_query(rows, query)
    if not parse_bool(params.get("paging"), default=True):
        return json_response(entries)
    page, size = int_param(params, "page", 1), int_param(params, "pageSize", 50)
    window = entries[(page - 1) * size : page * size]
    if parse_bool(params.get("headless")):
        return json_response(window)
    return json_response({"pager": {"page": page, "pageSize": size}, "entries": window})


router = APIRouter()
router.include_router(build("/api/dataStore", shared_store, SHARED_WORDING))
router.include_router(build("/api/userDataStore", user_store, USER_WORDING))
