"""Kill -9 of one of two mediator replicas while it pushes: nothing is lost, and only what the
killed replica had in flight is pushed again (the contract's at least once, deduplicated by the
EventItem `id`); a FIFO subscription still sees its events in order.

Two real mediator processes share one scratch PostgreSQL database; a slow subscriber on loopback
tells which replica each push came from by the connection's source port."""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
import yaml

from bench.common import free_port, start_uvicorn, stop
from services.interop_layer.pubsub.delivery import BATCH
from tests.conftest import SHARED_POSTGRES, scratch_database
from tests.interop_layer.conftest import catalogue
from tests.interop_layer.support import ADMIN, HEALTH, NIA, REGISTRIES, client_headers
from tests.support.polling import eventually

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.replicas,
    SHARED_POSTGRES,
]
EVENTS = 60
ANSWER_AFTER = 0.1  # seconds the subscriber takes: pushes are in flight long enough to kill
ROOM = f"/r1/{REGISTRIES}"


class Subscriber:
    """Keeps (path, event id, source port) of every push on receipt, and what is in flight."""

    def __init__(self) -> None:
        self.received: list[tuple[str, str, int]] = []
        self.in_flight: set[int] = set()
        self.lock = threading.Lock()
        subscriber = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                body = orjson.loads(self.rfile.read(int(self.headers["Content-Length"])))
                port = self.client_address[1]
                with subscriber.lock:
                    subscriber.received.append((self.path, body["id"], port))
                    subscriber.in_flight.add(port)
                time.sleep(ANSWER_AFTER)
                with subscriber.lock:
                    subscriber.in_flight.discard(port)
                self.send_response(204)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def ids(self, path: str) -> list[str]:
        with self.lock:
            return [event for where, event, _ in self.received if where == path]


@pytest.fixture
def subscriber() -> Iterator[Subscriber]:
    hook = Subscriber()
    thread = threading.Thread(target=hook.server.serve_forever, daemon=True)
    thread.start()
    yield hook
    hook.server.shutdown()
    hook.server.server_close()


def local_ports(pid: int) -> set[int]:
    """The local TCP ports of the sockets process `pid` holds (Linux `/proc`)."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        with_target = os.readlink(fd) if fd.is_symlink() else ""
        if with_target.startswith("socket:["):
            inodes.add(with_target[8:-1])
    ports = set()
    for table in ("tcp", "tcp6"):
        for line in Path(f"/proc/{pid}/net/{table}").read_text().splitlines()[1:]:
            fields = line.split()
            if fields[9] in inodes:
                ports.add(int(fields[1].rsplit(":", 1)[1], 16))
    return ports


def start_replica(
    url: str, data_dir: Path, catalogue_path: Path, started: list[subprocess.Popen[bytes]]
) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    data_dir.mkdir(parents=True, exist_ok=True)
    env = {
        "DPI_DATA_DIR": str(data_dir),
        "DPI_LOG_LEVEL": "WARNING",
        "DPI_ADMIN_KEY": "dpi-admin",
        "DPI_INTEROP_LAYER_DATABASE_URL": url,
        "DPI_INTEROP_LAYER_CATALOGUE_PATH": str(catalogue_path),
        "DPI_INTEROP_LAYER_DECLARED_SUBSCRIPTIONS": "false",
        "DPI_INTEROP_LAYER_REPLICA": data_dir.name,  # each replica keeps its own log chain
        "DPI_INTEROP_LAYER_PUSH_POLL_INTERVAL": "0.05",
        "DPI_INTEROP_LAYER_PUSH_BACKOFF_INITIAL": "0.05",
        "DPI_INTEROP_LAYER_PUSH_BACKOFF_MAX": "0.2",
    }
    process = start_uvicorn(
        "services.interop_layer.main:app", port, env, log=data_dir / "mediator.log"
    )
    started.append(process)
    return process, f"http://127.0.0.1:{port}"


def test_kill9_of_a_replica_during_delivery(tmp_path: Path, subscriber: Subscriber) -> None:
    path = tmp_path / "catalogue.yaml"
    path.write_text(yaml.safe_dump(catalogue("http://127.0.0.1:9")))
    started: list[subprocess.Popen[bytes]] = []
    with scratch_database("pubsub_kill9", tmp_path / "unused.db") as url:
        try:
            _, survivor = start_replica(url, tmp_path / "a", path, started)
            victim, _ = start_replica(url, tmp_path / "b", path, started)
            with httpx.Client(base_url=survivor, timeout=10) as client:
                run(client, victim, subscriber)
        finally:
            for process in started:
                if process.poll() is None:
                    stop(process)


def run(client: httpx.Client, victim: subprocess.Popen[bytes], subscriber: Subscriber) -> None:
    for member, hook, options in ((NIA, "/nia", {}), (HEALTH, "/health", {"FIFO": True})):
        response = client.post(
            f"{ROOM}/api/v1/subs/birth-registered",
            json={"delivery": "PUSH", "pushUrl": subscriber.url + hook, "options": options},
            headers=client_headers(member),
        )
        assert response.status_code == 200, response.text
    ids = []
    for n in range(EVENTS):
        response = client.post(
            f"{ROOM}/pub/v1/birth-registered",
            json={"civilRegistrationId": f"BR-{n}"},
            headers=client_headers(REGISTRIES),
        )
        assert response.status_code == 201, response.text
        ids.append(response.json()["id"])
    victim_ports: set[int] = set()

    def victim_pushing() -> bool:
        victim_ports.update(local_ports(victim.pid))
        with subscriber.lock:
            return bool(subscriber.in_flight & victim_ports)

    eventually(victim_pushing, within=30, what="the victim replica pushing an event")
    victim.send_signal(signal.SIGKILL)
    victim.wait(timeout=10)

    def all_settled() -> bool:
        done = client.get(
            "/admin/pubsub/deliveries",
            params={"state": "delivered", "limit": "1000"},
            headers=ADMIN,
        )
        return len(done.json()) == 2 * EVENTS

    eventually(all_settled, within=60, what="every delivery settled by the survivor")
    with subscriber.lock:
        received = list(subscriber.received)
    for hook in ("/nia", "/health"):
        counts = Counter(event for where, event, _ in received if where == hook)
        assert sorted(counts) == sorted(ids)  # nothing lost
        again = {event for event, count in counts.items() if count > 1}
        from_victim = {e for where, e, port in received if where == hook and port in victim_ports}
        assert again <= from_victim  # only what the killed replica had in flight came twice
        assert len(again) <= BATCH
    first_seen = list(dict.fromkeys(subscriber.ids("/health")))
    assert first_seen == ids  # FIFO, redeliveries aside
