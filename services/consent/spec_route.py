"""Routes of the GovStack Consent BB spec's operations: what has no value is left out.

The spec's schemas declare no field nullable, so an optional field without a value is omitted
from the answer rather than sent as `null`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi.routing import APIRoute


class SpecRoute(APIRoute):
    """An operation of the spec: its response model is serialised without `None` fields."""

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        kwargs["response_model_exclude_none"] = True
        super().__init__(path, endpoint, **kwargs)
