"""Kill -9 of the registries replica that is publishing its outbox: the other replica takes the
outbox over and publishes the rest in order; only the one event in flight at the kill may be
published twice (at least once, deduplicated by the receiver).

Two real registries processes share one scratch PostgreSQL database; a slow fake mediator on
loopback tells which replica each publish came from by the connection's source port."""

from __future__ import annotations

import signal
import subprocess
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from bench.common import free_port, start_uvicorn, stop
from tests.conftest import SHARED_POSTGRES, scratch_database
from tests.registries.civil_records import birth
from tests.registries.test_civil import ADMIN, CRVS
from tests.security.test_pubsub_kill9 import local_ports
from tests.support.polling import eventually

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.replicas,
    SHARED_POSTGRES,
]
BIRTHS = 30
ANSWER_AFTER = 0.1  # seconds the mediator takes to accept a publish


class Mediator:
    """Accepts every publish (201 with a new id) after a moment; keeps (registration, port)."""

    def __init__(self) -> None:
        self.published: list[tuple[str, int]] = []
        self.in_flight: set[int] = set()
        self.lock = threading.Lock()
        mediator = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                body = orjson.loads(self.rfile.read(int(self.headers["Content-Length"])))
                port = self.client_address[1]
                if "/pub/v1/" in self.path:
                    with mediator.lock:
                        mediator.published.append((body["civilRegistrationId"], port))
                        mediator.in_flight.add(port)
                    time.sleep(ANSWER_AFTER)
                    with mediator.lock:
                        mediator.in_flight.discard(port)
                answer = orjson.dumps({"id": str(uuid.uuid4())})
                self.send_response(201)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"


@pytest.fixture
def mediator() -> Iterator[Mediator]:
    fake = Mediator()
    thread = threading.Thread(target=fake.server.serve_forever, daemon=True)
    thread.start()
    yield fake
    fake.server.shutdown()
    fake.server.server_close()


def start_replica(
    url: str, mediator: str, data_dir: Path, started: list[subprocess.Popen[bytes]]
) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    data_dir.mkdir(parents=True, exist_ok=True)
    env = {
        "DPI_DATA_DIR": str(data_dir),
        "DPI_LOG_LEVEL": "WARNING",
        "DPI_ADMIN_KEY": "dpi-admin",
        "DPI_INTEROP_LAYER_URL": mediator,
        "DPI_REGISTRIES_DATABASE_URL": url,
        "DPI_REGISTRIES_MEDIATOR_URL": mediator,
        "DPI_REGISTRIES_OUTBOX_INTERVAL": "0.05",
        "DPI_REGISTRIES_OUTBOX_MAX_BACKOFF": "0.2",
        "DPI_REGISTRIES_OUTBOX_BATCH": "5",
    }
    process = start_uvicorn(
        "services.registries.main:app", port, env, log=data_dir / "registries.log"
    )
    started.append(process)
    return process, f"http://127.0.0.1:{port}"


def test_kill9_of_the_publishing_replica(tmp_path: Path, mediator: Mediator) -> None:
    started: list[subprocess.Popen[bytes]] = []
    with scratch_database("outbox_kill9", tmp_path / "unused.db") as url:
        try:
            replicas = [start_replica(url, mediator.url, tmp_path / name, started) for name in "ab"]
            run(replicas, mediator)
        finally:
            for process in started:
                if process.poll() is None:
                    stop(process)


def run(replicas: list[tuple[subprocess.Popen[bytes], str]], mediator: Mediator) -> None:
    keys = []
    for n in range(BIRTHS):
        with httpx.Client(base_url=replicas[n % 2][1], timeout=10) as client:
            response = client.post(
                "/data/births/1.0/create",
                json={"write": {"content": birth(f"Child{n}")}},
                headers=CRVS,
            )
            assert response.status_code == 200, response.text
            keys.append(response.json()["content"]["id"])
    ports: dict[int, set[int]] = {0: set(), 1: set()}
    victim: list[int] = []

    def publishing() -> bool:
        for index, (process, _) in enumerate(replicas):
            ports[index].update(local_ports(process.pid))
        with mediator.lock:
            victim.extend(i for i in ports if mediator.in_flight & ports[i])
        return bool(victim)

    eventually(publishing, within=30, what="a replica publishing an event")
    process, _ = replicas[victim[0]]
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=10)
    survivor = replicas[1 - victim[0]][1]

    def all_published() -> bool:
        with httpx.Client(base_url=survivor, timeout=10) as client:
            box = client.get("/admin/outbox", headers=ADMIN).json()
        return bool(box["pending"] == 0 and box["total"] == BIRTHS)

    eventually(all_published, within=60, what="the survivor publishing the rest")
    with mediator.lock:
        published = list(mediator.published)
    counts = Counter(key for key, _ in published)
    assert list(dict.fromkeys(key for key, _ in published)) == keys  # nothing lost, in order
    again = {key for key, count in counts.items() if count > 1}
    from_victim = {key for key, port in published if port in ports[victim[0]]}
    assert len(again) <= 1 and again <= from_victim  # only the one in flight at the kill
