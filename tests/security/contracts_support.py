"""Fuzz a service's OpenAPI in-process with schemathesis and collect what breaks its contract.

Each operation gets a bounded, derandomized batch of positive and negative cases; failures are
collected (never shrunk: shrinking costs minutes) and returned as plain findings.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import Failure, FailureGroup
from schemathesis.python import asgi
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.specs.openapi.schemas import OpenApiSchema

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
GATEWAY = (502, 503, 504)
KIND = {
    "ServerError": "server error",
    "ContentTypeServerError": "server error",
    "UndefinedStatusCode": "undocumented status",
    "UndefinedContentType": "undocumented content type",
    "MalformedMediaType": "undocumented content type",
    "MissingContentType": "undocumented content type",
    "JsonSchemaError": "schema violation",
    "MalformedJson": "schema violation",
    "ContentDeserializationError": "schema violation",
}


@dataclass(frozen=True)
class Finding:
    """One contract break: where, which kind, and the status the service answered."""

    operation: str
    kind: str
    status: int
    title: str

    def key(self) -> tuple[str, str, int]:
        return (self.operation, self.kind, self.status)


Allowed = Callable[[Finding], bool]


def load(app: Any) -> OpenApiSchema:
    """The app's own OpenAPI document, fetched over ASGI (the lifespan starts here)."""
    return schemathesis.openapi.from_asgi("/openapi.json", app)


def fuzz(
    schema: OpenApiSchema,
    *,
    headers: Mapping[str, str] | None = None,
    max_examples: int = 10,
    modes: Iterable[GenerationMode] = (GenerationMode.POSITIVE, GenerationMode.NEGATIVE),
    base_url: str | None = None,
    checks: list[Any] | None = None,
    path_parameters: Mapping[str, str] | None = None,
    only: set[str] | None = None,
) -> list[Finding]:
    """Every operation, each mode: `max_examples` cases, checked against the document.

    `path_parameters` pins parameters of those names to known ids, so reads reach real data;
    `only` limits the run to those `METHOD /path` labels."""
    found: dict[tuple[str, str, int], Finding] = {}
    call = Call(headers=dict(headers or {}), base_url=base_url, checks=checks or CHECKS)
    for result in schema.get_all_operations():
        operation = result.ok()  # type: ignore[union-attr]
        if only is not None and label_of(operation) not in only:
            continue
        names = {p.name for p in operation.path_parameters}
        pinned = {k: v for k, v in (path_parameters or {}).items() if k in names}
        for mode in modes:
            strategy = operation.as_strategy(generation_mode=mode, path_parameters=pinned or None)
            for finding in call.examples(operation, strategy, max_examples):
                found.setdefault(finding.key(), finding)
    return sorted(found.values(), key=Finding.key)


@dataclass(frozen=True)
class Call:
    """How cases are sent and checked."""

    headers: dict[str, str]
    base_url: str | None
    checks: list[Any]

    def examples(self, operation: Any, strategy: Any, max_examples: int) -> list[Finding]:
        """Run `max_examples` cases of `strategy`; what broke the contract, unshrunk."""
        findings: list[Finding] = []

        @given(case=strategy)
        @settings(
            max_examples=max_examples,
            derandomize=True,
            database=None,
            deadline=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        def run(case: Any) -> None:
            findings.extend(self.one(operation, case))

        with contextlib.suppress(Unsatisfiable):  # nothing to make invalid: no input at all
            run()
        return findings

    def one(self, operation: Any, case: Any) -> list[Finding]:
        label = label_of(operation)
        try:
            response = case.call(headers=self.headers, base_url=self.base_url)
        except Exception as exc:  # the app raised past its handlers: a 500 on the wire
            return [Finding(label, "server error", 500, _first_line(exc))]
        try:
            case.validate_response(response, checks=self.checks)
        except FailureGroup as group:
            documented = {str(code) for code in operation.definition.raw.get("responses", {})}
            found = [_finding(label, f, response.status_code) for f in group.exceptions]
            fault = "".join(_header(response.headers, "x-road-error"))
            return [
                f
                for f in found
                if not _documented_gateway_error(f, documented)
                and not _documented_xroad_fault(f, documented, fault)
            ]
        return []


def label_of(operation: Any) -> str:
    return f"{operation.method.upper()} {operation.path}"


def labels(document: Mapping[str, Any]) -> set[str]:
    """`METHOD /path` of every operation of an OpenAPI document."""
    methods = ("get", "put", "post", "delete", "patch")
    return {
        f"{method.upper()} {path}"
        for path, item in document.get("paths", {}).items()
        for method in methods
        if method in item
    }


def _documented_gateway_error(finding: Finding, documented: set[str]) -> bool:
    """A documented 502/503/504: an upstream this test does not run, answered as promised."""
    return finding.status in GATEWAY and str(finding.status) in documented


def _header(headers: Any, name: str) -> list[str]:
    """A header's values, whichever way the response keeps them (a list per name, or one)."""
    for key, value in dict(headers).items():
        if key.lower() == name:
            return value if isinstance(value, list) else [value]
    return []


def _documented_xroad_fault(finding: Finding, documented: set[str], fault: str) -> bool:
    """A documented 500 that is X-Road's typed fault (`X-Road-Error: Server.…`, PR-REST 4.6):
    the mediator refusing as the protocol says, not a crash."""
    return (
        finding.kind == "server error"
        and finding.status == 500
        and "500" in documented
        and fault.startswith("Server.")
    )


def _finding(label: str, failure: Failure, status: int) -> Finding:
    kind = KIND.get(type(failure).__name__, type(failure).__name__)
    detail = " ".join(str(getattr(failure, "message", "")).split())[:400]
    return Finding(operation=label, kind=kind, status=status, title=f"{failure.title}: {detail}")


def _first_line(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"[:200]


def stop_all() -> None:
    """End the lifespans schemathesis started (apps it loaded stay registered otherwise)."""
    asgi.shutdown_lifespans()


def counts(findings: Iterable[Finding]) -> dict[str, int]:
    result: dict[str, int] = {}
    for finding in findings:
        result[finding.kind] = result.get(finding.kind, 0) + 1
    return result


def report(findings: Iterable[Finding]) -> str:
    return "\n".join(f"{f.operation}: {f.kind} ({f.status}) {f.title}" for f in findings)
