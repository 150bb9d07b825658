"""The kernel completes a service's OpenAPI: path parameters, errors in the service's shape."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, FastAPI, Request

from services.kernel import openapi
from services.kernel.openapi import ErrorShape

SHAPE = ErrorShape(
    name="Oops",
    media_type="application/vnd.oops+json",
    validation_status=400,
    schema={"type": "object", "required": ["oops"], "properties": {"oops": {"type": "string"}}},
)
ROOM = "/r/{room}/{kind:path}"


def make_app() -> FastAPI:
    app = FastAPI()
    router = APIRouter()

    @router.get(ROOM + "/items/{item}")
    def read(request: Request, item: int) -> dict[str, Any]:
        return {"room": request.path_params["room"], "item": item}

    @router.post("/things", responses=openapi.errors(409))
    def create(body: dict[str, int]) -> dict[str, int]:
        return body

    app.include_router(router)
    openapi.install(app, SHAPE)
    return app


def test_path_parameters_read_from_the_request_are_declared():
    document = make_app().openapi()
    operation = document["paths"]["/r/{room}/{kind}/items/{item}"]["get"]
    declared = {p["name"]: p for p in operation["parameters"] if p["in"] == "path"}
    assert set(declared) == {"room", "kind", "item"}
    assert declared["room"]["required"] is True
    assert declared["item"]["schema"]["type"] == "integer"  # FastAPI's own stays as it was


def test_every_operation_declares_the_kernel_errors_in_the_service_shape():
    document = make_app().openapi()
    reference = {"$ref": "#/components/schemas/Oops"}
    for path, item in document["paths"].items():
        for operation in item.values():
            responses = operation["responses"]
            assert {"400", "401", "403", "413"} <= set(responses), path
            assert "422" not in responses  # validation failures are 400 in this shape
            assert responses["400"]["content"] == {
                "application/vnd.oops+json": {"schema": reference}
            }
    assert "404" in document["paths"]["/r/{room}/{kind}/items/{item}"]["get"]["responses"]
    assert "404" not in document["paths"]["/things"]["post"]["responses"]
    assert "HTTPValidationError" not in document["components"]["schemas"]
    assert document["components"]["schemas"]["Oops"] == SHAPE.schema


def test_route_specific_errors_get_the_service_shape():
    responses = make_app().openapi()["paths"]["/things"]["post"]["responses"]
    assert responses["409"]["description"] == "Conflict"
    assert "application/vnd.oops+json" in responses["409"]["content"]


def test_the_shape_may_depend_on_the_path():
    app = FastAPI()

    @app.get("/fhir/thing")
    def thing() -> dict[str, str]:
        return {}

    @app.get("/other")
    def other() -> dict[str, str]:
        return {}

    fhir = ErrorShape(name="Outcome", schema={"type": "object"}, media_type="application/fhir+json")
    openapi.install(app, lambda path: fhir if path.startswith("/fhir") else SHAPE)
    paths = app.openapi()["paths"]
    assert "application/fhir+json" in paths["/fhir/thing"]["get"]["responses"]["401"]["content"]
    assert "application/vnd.oops+json" in paths["/other"]["get"]["responses"]["401"]["content"]
    assert "422" in paths["/fhir/thing"]["get"]["responses"]  # this shape keeps 422
