"""Structured JSON logs: one object a line, carrying the service name and the current trace."""

from __future__ import annotations

import json
import logging
import re
import sys
import time
from datetime import UTC, datetime
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.kernel.redact import redact_path
from services.kernel.tracing import current_trace

# uvicorn's `color_message` repeats `msg` with ANSI colours: terminal decoration, not data.
_RESERVED = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {
    "message",
    "asctime",
    "color_message",
}
_ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def strip_ansi(text: str) -> str:
    """`text` without ANSI escape sequences (colours, cursor moves)."""
    return _ANSI.sub("", text)


def escape_controls(text: str) -> str:
    """Control characters as `\\xNN`, so logged input cannot start a forged line."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def loggable_path(path: str) -> str:
    """A decoded request path, credentials masked and control characters re-encoded as `%XX`."""
    return _CONTROL.sub(lambda m: f"%{ord(m.group()):02X}", redact_path(path))


class JsonFormatter(logging.Formatter):
    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "service": self.service,
            "logger": record.name,
            "msg": strip_ansi(record.getMessage()),
        }
        trace = current_trace()
        if trace is not None:
            entry["trace_id"] = trace.trace_id
            entry["span_id"] = trace.span_id
        for key, value in vars(record).items():
            if key not in _RESERVED:
                entry[key] = strip_ansi(value) if isinstance(value, str) else value
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


class TextFormatter(logging.Formatter):
    def __init__(self, service: str) -> None:
        super().__init__(f"%(asctime)s %(levelname)s {service} %(name)s: %(message)s")

    def formatMessage(self, record: logging.LogRecord) -> str:
        """The message line with ANSI codes dropped and control characters escaped."""
        return escape_controls(strip_ansi(super().formatMessage(record)))

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        trace = current_trace()
        return f"{line} trace={trace.trace_id}" if trace else line


def configure_logging(service: str, *, level: str = "INFO", fmt: str = "json") -> None:
    """Send every logger (uvicorn's included) to stderr in one format."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter(service) if fmt == "json" else TextFormatter(service))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logger = logging.getLogger(name)
        logger.handlers[:] = []
        logger.propagate = True
    logging.getLogger("uvicorn.access").disabled = True  # AccessLogMiddleware logs with the trace
    logging.getLogger("httpx").setLevel(logging.WARNING)


access_log = logging.getLogger("dpi.access")


class AccessLogMiddleware:
    """One log line per request, inside the request's trace."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not access_log.isEnabledFor(logging.INFO):
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def capture(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, capture)
        finally:
            path = loggable_path(scope["path"])
            access_log.info(
                "%s %s %d",
                scope["method"],
                path,
                status,
                extra={
                    "method": scope["method"],
                    "path": path,
                    "status": status,
                    "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                },
            )
