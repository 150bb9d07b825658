"""Trace export, switched on by the standard `OTEL_EXPORTER_OTLP_ENDPOINT` (or
`OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) and off by `OTEL_SDK_DISABLED=true`.

Export is the OpenTelemetry SDK's (`otel_sdk`), loaded only when switched on: with export off
nothing of the SDK is imported and a request costs what it always did (one check of a module
global). The spans carry the sandbox's own W3C trace ids, so a trace seen in Jaeger is the trace
the mediator's message log and the scenario reports name. If the collector is down, spans are
dropped: observability never blocks or breaks a request.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import TYPE_CHECKING

from sqlalchemy.engine import Engine

if TYPE_CHECKING:
    from services.kernel.otel_sdk import Export

_export: Export | None = None


def exporter() -> Export | None:
    return _export


def start_exporter(service: str, engines: Sequence[Engine] = ()) -> Export | None:
    """Start exporting (spans of `engines` too) if the OpenTelemetry variables ask for it."""
    global _export
    endpoint = os.environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") or os.environ.get(
        "OTEL_EXPORTER_OTLP_ENDPOINT"
    )
    if not endpoint or os.environ.get("OTEL_SDK_DISABLED", "").lower() == "true":
        return None
    from services.kernel.otel_sdk import Export

    _export = Export.start(endpoint, os.environ.get("OTEL_SERVICE_NAME", service), engines)
    return _export


def stop_exporter() -> None:
    global _export
    if _export is not None:
        _export.shutdown()
        _export = None
