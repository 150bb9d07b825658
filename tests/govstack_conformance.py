"""Responses checked against a GovStack OpenAPI file with `openapi-core` (a maintained validator).

A test records each response of a live walk (`Recorder.record`) and ends with `Recorder.check()`,
which validates every one against the operation's response schema and names each violation.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from openapi_core import OpenAPI
from openapi_core.testing import MockRequest, MockResponse

GOVSTACK = Path(__file__).resolve().parents[1] / ".." / "shared" / "contracts" / "govstack"
HOST = "http://govstack.test"


def load_contract(name: str) -> dict[str, Any]:
    """The contract, or a skip naming where it was looked for (the shared checkout is optional)."""
    path = GOVSTACK / name
    if not path.exists():
        pytest.skip(f"shared contracts not present at {path.resolve()}")
    loaded: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return loaded


def _explain(error: BaseException) -> str:
    causes = []
    seen: BaseException | None = error
    while seen is not None:
        for inner in getattr(seen, "schema_errors", ()) or ():
            where = "/".join(str(p) for p in inner.absolute_path)
            causes.append(f"{where or '(root)'}: {inner.message}")
        seen = seen.__cause__
    return "; ".join(causes) or f"{type(error).__name__}: {error}"


@dataclass
class Recorder:
    """Recorded (operation, response) pairs of one spec, validated together."""

    contract: dict[str, Any]
    recorded: list[tuple[str, httpx.Response]] = field(default_factory=list)

    def __post_init__(self) -> None:
        served = copy.deepcopy(self.contract)
        served["servers"] = [{"url": HOST}]
        self.api = OpenAPI.from_dict(served)

    def record(self, template: str, response: httpx.Response) -> httpx.Response:
        self.recorded.append((template, response))
        return response

    def operations(self) -> set[tuple[str, str]]:
        return {(r.request.method.lower(), template) for template, r in self.recorded}

    def violations(self) -> list[str]:
        found = []
        for template, response in self.recorded:
            request = response.request
            mock_request = MockRequest(
                HOST,
                request.method.lower(),
                request.url.path,
                path_pattern=template,
                args=dict(request.url.params),
            )
            media = response.headers.get("content-type", "application/json").split(";")[0]
            mock_response = MockResponse(response.content, response.status_code, content_type=media)
            try:
                self.api.validate_response(mock_request, mock_response)
            except Exception as error:  # the validator's own error types, named below
                found.append(
                    f"{request.method} {template} {response.status_code}: {_explain(error)}"
                )
        return found


def _parameters(spec: dict[str, Any], operation: dict[str, Any], common: list[Any]) -> set[str]:
    names = set()
    for parameter in [*common, *operation.get("parameters", [])]:
        while "$ref" in parameter:
            target: Any = spec
            for part in parameter["$ref"].split("/")[1:]:
                target = target[part]
            parameter = target
        if parameter["in"] in ("query", "header") and "<" not in parameter["name"]:
            names.add(f"{parameter['in']}:{parameter['name'].lower()}")
    return names


def undeclared_parameters(served: dict[str, Any], contract: dict[str, Any]) -> list[str]:
    """Query and header parameters `contract` defines for an operation the app `served` (its
    OpenAPI) has, that the app's operation does not declare: FastAPI would drop them unseen.
    (Templated names such as `query.<fieldName>` are the route's own to read.)"""
    missing = []
    for path, operations in contract["paths"].items():
        common = operations.get("parameters", [])
        for method, operation in operations.items():
            ours = served["paths"].get(path, {}).get(method)
            if method == "parameters" or ours is None:
                continue
            wanted = _parameters(contract, operation, common)
            declared = _parameters(served, ours, served["paths"][path].get("parameters", []))
            missing += [f"{method.upper()} {path} {name}" for name in sorted(wanted - declared)]
    return missing
