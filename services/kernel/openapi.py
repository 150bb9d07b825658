"""Complete a service's served OpenAPI: every path parameter, every error status it can answer.

FastAPI documents only what a route's signature shows. Errors the kernel answers on every route
(bad input, auth, body too large) and path parameters a route reads from `request.path_params`
are added here, in the service's own error shape (which may depend on the API a path belongs to).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI

from services.kernel.security import Security, declare

METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")
PATH_PARAMETER = re.compile(r"{([^}:]+)(?::[^}]*)?}")
FASTAPI_VALIDATION = ("HTTPValidationError", "ValidationError")


@dataclass(frozen=True)
class ErrorShape:
    """A service's error body: its schema, media type, and the status bad input gets."""

    name: str
    schema: dict[str, Any]
    media_type: str = "application/json"
    validation_status: int = 422
    # errors every operation of the service can answer
    statuses: tuple[int, ...] = (400, 401, 403, 413)


PROBLEM_DETAILS = ErrorShape(
    name="Problem",
    media_type="application/problem+json",
    schema={
        "type": "object",
        "description": "RFC 9457 problem details",
        "required": ["title", "status"],
        "properties": {
            "type": {"type": "string"},
            "title": {"type": "string"},
            "status": {"type": "integer"},
            "detail": {"type": "string"},
            "instance": {"type": "string"},
            "code": {"type": "string"},
            "errors": {"type": "array", "items": {"type": "object"}},
        },
    },
)

ShapeFor = Callable[[str], ErrorShape]


def install(
    app: FastAPI,
    shape: ErrorShape | ShapeFor = PROBLEM_DETAILS,
    *,
    security: Security | None = None,
) -> None:
    """Serve the app's generated document completed by `complete` and its security schemes
    (the kernel's admin and mediator keys, and `security`), built once, then cached."""
    generate = app.openapi
    shape_for: ShapeFor = shape if callable(shape) else (lambda _path: shape)

    def build() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = generate()
            declare(document, app, security)
            complete(document, shape_for)
        assert app.openapi_schema is not None
        return app.openapi_schema

    app.openapi = build  # type: ignore[method-assign]


def complete(document: dict[str, Any], shape_for: ShapeFor) -> dict[str, Any]:
    """Declare undeclared path parameters and the service's error responses, in place."""
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    for path, item in document.get("paths", {}).items():
        shape = shape_for(path)
        schemas.setdefault(shape.name, shape.schema)
        names = PATH_PARAMETER.findall(path)
        for method in METHODS:
            operation = item.get(method)
            if operation is None:
                continue
            _declare_path_parameters(operation, names)
            _declare_errors(operation, shape, has_parameters=bool(names))
    if not any(name in json.dumps(document["paths"]) for name in FASTAPI_VALIDATION):
        for name in FASTAPI_VALIDATION:
            schemas.pop(name, None)
    return document


def _declare_path_parameters(operation: dict[str, Any], names: Iterable[str]) -> None:
    parameters = operation.setdefault("parameters", [])
    declared = {p.get("name") for p in parameters if p.get("in") == "path"}
    for name in names:
        if name not in declared:
            parameters.append(
                {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
            )
    if not parameters:
        operation.pop("parameters")


def _declare_errors(operation: dict[str, Any], shape: ErrorShape, *, has_parameters: bool) -> None:
    responses: dict[str, Any] = operation.setdefault("responses", {})
    generated = responses.get("422", {})
    if "HTTPValidationError" in json.dumps(generated):
        del responses["422"]
    statuses = {*shape.statuses, shape.validation_status}
    if has_parameters:
        statuses.add(404)
    for code in sorted(statuses):
        responses.setdefault(str(code), {"description": _phrase(code)})
    for status, response in responses.items():
        if status.isdigit() and int(status) >= 400 and not response.get("content"):
            response["content"] = {
                shape.media_type: {"schema": {"$ref": f"#/components/schemas/{shape.name}"}}
            }
            response.setdefault("description", _phrase(int(status)))


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """Route-specific error statuses for `responses=`; `install` adds the service's error body."""
    return {status: {"description": _phrase(status)} for status in statuses}
