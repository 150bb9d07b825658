"""A tiny OTLP/HTTP receiver on loopback for the tests of trace export."""

from __future__ import annotations

import gzip
import time
from typing import Any

from fastapi import FastAPI, Request, Response
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

SERVER, CLIENT = 2, 3  # OTLP's span kinds


def collector(received: list[dict[str, Any]]) -> FastAPI:
    """A tiny OTLP/HTTP receiver (protobuf, as the SDK's exporter sends)."""
    app = FastAPI()

    @app.post("/v1/traces")
    async def traces(request: Request) -> Response:
        body = await request.body()
        if request.headers.get("content-encoding") == "gzip":
            body = gzip.decompress(body)
        export = ExportTraceServiceRequest.FromString(body)
        for resource in export.resource_spans:
            attributes = {a.key: a.value.string_value for a in resource.resource.attributes}
            for scope in resource.scope_spans:
                for span in scope.spans:
                    received.append(
                        {
                            "service": attributes.get("service.name"),
                            "name": span.name,
                            "kind": span.kind,
                            "traceId": span.trace_id.hex(),
                            "spanId": span.span_id.hex(),
                            "parentSpanId": span.parent_span_id.hex(),
                            "attributes": {a.key: str(a.value) for a in span.attributes},
                        }
                    )
        return Response(ExportTraceServiceRequest().SerializeToString())

    return app


def wait_for(received: list[dict[str, Any]], count: int) -> None:
    deadline = time.monotonic() + 10
    while len(received) < count and time.monotonic() < deadline:
        time.sleep(0.02)
