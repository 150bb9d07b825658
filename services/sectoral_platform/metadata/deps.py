"""Request-scoped access to the metadata store and a viewer bound to the request's base URL."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from services.sectoral_platform.metadata.store import MetadataStore
from services.sectoral_platform.metadata.wire import Viewer
from services.sectoral_platform.runtime import RuntimeDep


def get_store(runtime: RuntimeDep) -> MetadataStore:
    return runtime.metadata


def get_viewer(request: Request, runtime: RuntimeDep) -> Viewer:
    return Viewer(runtime.metadata, base_url(request))


def base_url(request: Request) -> str:
    return str(request.base_url).rstrip("/")


StoreDep = Annotated[MetadataStore, Depends(get_store)]
ViewerDep = Annotated[Viewer, Depends(get_viewer)]
