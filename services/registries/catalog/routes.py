"""GovStack Digital Registries *Database* API: list, read, create/modify and delete registries."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response

from services.kernel.db import SessionDep
from services.kernel.openapi import errors
from services.registries.catalog import service
from services.registries.catalog.models import RegistryCreate
from services.registries.deps import CallerDep

router = APIRouter(tags=["Database API"])


@router.get("/databases", summary="Every registry, grouped")
def list_databases(session: SessionDep, caller: CallerDep) -> list[dict[str, Any]]:
    return service.database_groups(service.list_registries(session))


@router.get("/database/{id}", summary="One registry with its schema")
def read_database(id: int, session: SessionDep, caller: CallerDep) -> dict[str, Any]:
    return service.database_info(service.get_registry_by_id(session, registry_id=id))


@router.delete("/database/{id}", summary="Delete an empty registry", responses=errors(409))
def delete_database(id: int, session: SessionDep, caller: CallerDep) -> str:
    service.delete_registry(session, registry_id=id)
    return "Success"


@router.post("/database/modify", summary="Create a registry, or change its schema")
def modify_database(
    body: RegistryCreate, response: Response, session: SessionDep, caller: CallerDep
) -> dict[str, Any]:
    """Answers the schema, as upstream does; `Location` names the registry's database id."""
    registry = service.save_registry(session, body=body, actor=caller.client)
    response.headers["Location"] = f"/database/{registry.id}"
    return registry.json_schema
