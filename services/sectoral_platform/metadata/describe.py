"""`/api/schemas` and `/api/resources`, generated from the schema registry the metadata
endpoints serve from and from the endpoint table, so they cannot drift from what is served."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from services.sectoral_platform.auth.deps import CurrentUserDep
from services.sectoral_platform.dhis2.endpoints import ENDPOINTS, check_parameters
from services.sectoral_platform.dhis2.web import json_response
from services.sectoral_platform.errors import not_found
from services.sectoral_platform.metadata.fields import parse_fields
from services.sectoral_platform.metadata.schema import SCHEMAS, by_singular
from services.sectoral_platform.metadata.schema_types import Prop, TypeSchema

router = APIRouter(prefix="/api", tags=["metadata"], dependencies=[Depends(check_parameters)])

_PROPERTY_TYPE = {"reference": "REFERENCE", "collection": "COLLECTION", "embedded": "COMPLEX"}


def _property(prop: Prop) -> dict[str, Any]:
    collection = prop.kind in ("collection", "inverse") or (
        prop.kind == "embedded" and prop.target is not None
    )
    body: dict[str, Any] = {
        "name": prop.name,
        "fieldName": prop.name,
        "propertyType": _PROPERTY_TYPE.get(prop.kind, "TEXT"),
        "collection": collection,
        "required": prop.required,
        "unique": prop.unique,
        "owner": prop.kind not in ("inverse", "computed"),
        "persisted": prop.kind != "computed",
        "writable": prop.kind not in ("inverse", "computed"),
        "readable": True,
    }
    if prop.target in SCHEMAS:
        target = SCHEMAS[prop.target]
        body["klass"] = target.klass
        if collection:
            body["itemKlass"] = target.klass
            body["collectionName"] = prop.name
    return body


def describe(schema: TypeSchema, base: str) -> dict[str, Any]:
    name = schema.klass.rsplit(".", 1)[1]
    return {
        "klass": schema.klass,
        "name": name,
        "displayName": name,
        "singular": schema.singular,
        "plural": schema.plural,
        "collectionName": schema.plural,
        "metadata": True,
        "nameableObject": schema.nameable,
        "identifiableObject": True,
        "embeddedObject": schema.embedded,
        "apiEndpoint": f"{base}/api/{schema.plural}",
        "relativeApiEndpoint": f"/api/{schema.plural}",
        "href": f"{base}/api/schemas/{schema.singular}",
        "properties": [_property(p) for p in schema.props],
    }


def _served() -> list[TypeSchema]:
    return [s for s in SCHEMAS.values() if not s.embedded]


def _base(request: Request) -> str:
    return str(request.base_url).rstrip("/")


def _shape(body: dict[str, Any], fields: str | None) -> dict[str, Any]:
    """Top-level `fields` only: the schema documents are not metadata objects."""
    if not fields:
        return body
    names = {n.name for n in parse_fields(fields) if not n.exclude}
    return body if "*" in names else {k: v for k, v in body.items() if k in names}


@router.get("/schemas", summary="The schema of every metadata type served")
def list_schemas(request: Request, _: CurrentUserDep) -> Response:
    fields = request.query_params.get("fields")
    base = _base(request)
    return json_response({"schemas": [_shape(describe(s, base), fields) for s in _served()]})


@router.get("/schemas/{name}", summary="The schema of one metadata type")
def read_schema(name: str, request: Request, _: CurrentUserDep) -> Response:
    schema = by_singular(name) or SCHEMAS.get(name)
    if schema is None or schema.embedded:
        raise not_found(f"Schema `{name}` is not served here", error_code=None)
    body = describe(schema, _base(request))
    return json_response(_shape(body, request.query_params.get("fields")))


@router.get("/resources", summary="Every resource served")
def list_resources(request: Request, _: CurrentUserDep) -> Response:
    base = _base(request)
    resources = [
        {
            "displayName": s.klass.rsplit(".", 1)[1],
            "singular": s.singular,
            "plural": s.plural,
            "href": f"{base}/api/{s.plural}",
        }
        for s in _served()
    ]
    others = sorted({path for _, path in ENDPOINTS if "{" not in path and path.count("/") == 2})
    resources += [
        {"displayName": p.rsplit("/", 1)[1], "singular": p.rsplit("/", 1)[1],
         "plural": p.rsplit("/", 1)[1], "href": f"{base}{p}"}
        for p in others
    ]  # fmt: skip
    return json_response({"resources": resources})
