"""What trace export costs a service: its CPU per request with export off and on.

Run: `.venv/bin/python -m bench.tracing [--baseline DIR]` (about a minute). The consent service
runs under uvicorn on loopback; `GET /readyz` (routing, one database round trip) is called one
request at a time, and the server's CPU time (all threads, so the SDK's exporter thread too) is
read from /proc over the requests. "On" exports every span over OTLP/HTTP to a sink in this
process that answers 200, and the measurement waits until the sink has received every span.
`--baseline DIR` also measures another checkout (the commit before a change), off and on.
Configurations alternate in rounds, so load from other processes hits them alike.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from bench.common import ROOT, cpu_seconds, free_port, start_uvicorn, stop

REQUESTS = 2000
WARM_UP = 200
ROUNDS = 3


class Sink:
    """A minimal OTLP/HTTP receiver that counts spans."""

    def __init__(self) -> None:
        self.spans = 0
        self.lock = threading.Lock()

    @contextmanager
    def serving(self) -> Iterator[str]:
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                if self.headers.get("content-type", "").startswith("application/json"):
                    spans = sum(  # the hand-rolled exporter before the SDK sent JSON
                        len(scope["spans"])
                        for resource in json.loads(body)["resourceSpans"]
                        for scope in resource["scopeSpans"]
                    )
                else:
                    spans = sum(
                        len(scope.spans)
                        for resource in ExportTraceServiceRequest.FromString(body).resource_spans
                        for scope in resource.scope_spans
                    )
                with sink.lock:
                    sink.spans += spans
                self.send_response(200)
                self.send_header("content-type", "application/x-protobuf")
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                return None

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield f"http://127.0.0.1:{server.server_address[1]}"
        finally:
            server.shutdown()
            server.server_close()


def measure(root: Path, otlp: str | None, spans: int, sink: Sink, data: Path) -> float:
    """Server CPU microseconds per request."""
    port = free_port()
    env = {
        "DPI_DATA_DIR": str(data),
        "DPI_LOG_LEVEL": "WARNING",
        "OTEL_EXPORTER_OTLP_ENDPOINT": otlp,
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": None,
    }
    process = start_uvicorn("services.consent.main:app", port, env, root=root)
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
            for _ in range(WARM_UP):
                client.get("/readyz").raise_for_status()
            time.sleep(0.5)  # spans of start-up and warm-up leave in this time, mostly
            with sink.lock:
                expected = sink.spans + REQUESTS * spans
            before = cpu_seconds(process.pid)
            for _ in range(REQUESTS):
                client.get("/readyz").raise_for_status()
            if otlp is not None:
                deadline = time.monotonic() + 15
                while sink.spans < expected and time.monotonic() < deadline:
                    time.sleep(0.05)
                if sink.spans < expected:
                    raise RuntimeError(f"the sink received {sink.spans} of {expected} spans")
            return (cpu_seconds(process.pid) - before) / REQUESTS * 1e6
    finally:
        stop(process)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", type=Path, help="another checkout, measured with export off")
    args, _ = parser.parse_known_args()
    sink = Sink()
    results: dict[str, list[float]] = {}
    with sink.serving() as otlp, tempfile.TemporaryDirectory(prefix="dpi-bench-trace-") as tmp:
        # (checkout, collector, spans per request: the server's and, with the SDK, the database's)
        runs: dict[str, tuple[Path, str | None, int]] = {"export off": (ROOT, None, 0)}
        runs["export on"] = (ROOT, otlp, 2)
        if args.baseline is not None:
            runs["baseline, export off"] = (args.baseline.resolve(), None, 0)
            runs["baseline, export on"] = (args.baseline.resolve(), otlp, 1)
        for round_ in range(ROUNDS):
            for name, (root, endpoint, spans) in runs.items():
                data = Path(tmp) / f"{name.replace(' ', '-').replace(',', '')}-{round_}"
                data.mkdir()
                results.setdefault(name, []).append(measure(root, endpoint, spans, sink, data))
    off = statistics.median(results["export off"])
    for name, values in results.items():
        median = statistics.median(values)
        print(
            f"{name:>22}: {median:7.0f} µs CPU per request (runs: "
            f"{', '.join(f'{v:.0f}' for v in values)}) = {median / off:.2f}x export off"
        )


if __name__ == "__main__":
    main()
