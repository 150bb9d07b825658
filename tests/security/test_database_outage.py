"""A database outage under load loses no acknowledged write, and each service recovers by itself.

A real service process runs on a PostgreSQL server of the test's own (never the machine's shared
one), takes concurrent writes, and the server is stopped under it. Within a deadline `/readyz`
answers 503; meanwhile every write is answered at once, 2xx (before the stop was noticed) or 503
in the service's error shape, never 500 and never a hang. The server is started again: `/readyz`
answers 200 within a deadline, with no restart of the service, writes are acknowledged again,
and every write acknowledged before, during or after the outage is there (its outbox event too).
The mediator answers no exchange whose record was not committed: every 2xx is in the message log,
whose chain still verifies. PostgreSQL pass only (`DPI_TEST_DB=postgres`).
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from bench.common import free_port, start_uvicorn, stop
from services.interop_layer.messagelog.trust import read_keys
from services.interop_layer.messagelog.verify import verify_database
from services.kernel.credentials import client_key
from tests.private_postgres import PrivatePostgres
from tests.security.kill9_support import (
    Call,
    Load,
    ServiceCase,
    WriteKind,
    missing_after_restart,
    missing_from_outbox,
    receiver,
    running,
)
from tests.security.outage_support import OutageLoad, OutagePlan, load_through_outage
from tests.security.test_kill9_services import CASES
from tests.security.test_messagelog_kill9 import HEALTH, logged, start_mediator

PLAN = OutagePlan()
SERVICES = [case for case in CASES if case.service in ("id_registry", "sectoral_platform")]


def check_outage(load: OutageLoad, plan: OutagePlan) -> None:
    """What every service must show: refusals were 503 only, /readyz followed the database."""
    assert load.failures == [], f"{len(load.failures)} answers neither 2xx nor 503"
    assert load.refusals.total() >= plan.refusals_during
    assert 0 <= load.unready_after <= plan.readiness_seconds
    assert json.loads(load.unready_body)["status"] == "unavailable", load.unready_body
    assert 0 <= load.ready_after <= plan.readiness_seconds
    assert load.acks_after >= plan.acks_after


@pytest.mark.parametrize("case", SERVICES, ids=str)
def test_a_database_outage_loses_no_acknowledged_write(
    case: ServiceCase, private_postgres: PrivatePostgres, tmp_path: Path
) -> None:
    url = private_postgres.create_database(case.service)
    with receiver() as hook, running(case, url, tmp_path) as served:
        context = {"hook": hook}
        with served.client(case) as client:
            context |= case.setup(client, context)
        load = load_through_outage(case, served.url, context, private_postgres, PLAN)
        check_outage(load, PLAN)
        assert served.process.poll() is None, "the service must survive the outage"
        acknowledged = Load(acked=load.acked)
        with served.client(case) as client:
            lost = missing_after_restart(case, client, acknowledged, poll_seconds=30)
            assert lost == [], f"{len(lost)} of {len(load.acked)} acknowledged writes lost"
            unevented = missing_from_outbox(case, client, context, acknowledged, poll_seconds=30)
            assert unevented == [], f"{len(unevented)} acknowledged writes lost their event"
    print(
        f"\noutage {case.service}: {len(load.acked)} acknowledged, lost 0, "
        f"{load.refusals.total()} refused with 503; /readyz 503 after {load.unready_after:.2f} s, "
        f"200 after {load.ready_after:.2f} s"
    )


@pytest.fixture
def processes() -> Iterator[list[subprocess.Popen[bytes]]]:
    started: list[subprocess.Popen[bytes]] = []
    yield started
    for process in started:
        if process.poll() is None:
            stop(process)


EXCHANGES = ServiceCase(
    service="interop_layer",
    env={},
    headers={"X-Road-Client": HEALTH, "X-DPI-Client-Key": client_key(HEALTH)},
    writes=(
        WriteKind(
            "exchange",
            lambda i, c: Call("GET", f"{c['path']}/item/{i}", headers={"X-Road-Id": f"out-{i}"}),
            lambda i, response: {"id": f"out-{i}", "status": str(response.status_code)},
            lambda ack: Call("GET", "/"),  # read back from the log's database (below)
        ),
    ),
)


def test_the_mediator_answers_no_exchange_it_could_not_log(
    private_postgres: PrivatePostgres, tmp_path: Path, processes: list[subprocess.Popen[bytes]]
) -> None:
    provider_port = free_port()
    processes.append(
        start_uvicorn(
            "tests.interop_layer.support:provider_app",
            provider_port,
            {"DPI_LOG_LEVEL": "WARNING"},
            factory=True,
            probe="/openapi-doc",
        )
    )
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    url = private_postgres.create_database("interop_layer")
    mediator, base = start_mediator(data_dir, url, f"http://127.0.0.1:{provider_port}", processes)
    origin, path = base.split("/r1/", 1)
    load = load_through_outage(EXCHANGES, origin, {"path": f"/r1/{path}"}, private_postgres, PLAN)
    check_outage(load, PLAN)
    assert mediator.poll() is None, "the mediator must survive the outage"
    refusal = json.loads(load.refusal_bodies[0])
    assert refusal["type"] == "Server.ClientProxy.LoggingFailed", refusal

    found = logged(url)
    unlogged = sorted(ack["id"] for _, ack in load.acked if ack["id"] not in found)
    assert unlogged == [], f"{len(unlogged)} of {len(load.acked)} answered exchanges unlogged"
    assert all(found[ack["id"]] == int(ack["status"]) for _, ack in load.acked)
    stop(mediator)  # its last head anchor exported
    pinned = read_keys(data_dir / "interop_layer" / "trust" / "keys.json")
    report = verify_database(url, pinned=pinned)
    assert report.ok, report
    assert report.checked == len(logged(url))
    print(
        f"\noutage mediator: {len(load.acked)} exchanges answered and logged, "
        f"{load.refusals.total()} refused with 503; /readyz 503 after {load.unready_after:.2f} s, "
        f"200 after {load.ready_after:.2f} s"
    )


def test_the_readiness_probe_names_the_database_as_the_reason(
    private_postgres: PrivatePostgres, tmp_path: Path
) -> None:
    """Every other service too: 503 with its reason while the database is down, 200 after."""
    for service in ("consent", "registries"):
        url = private_postgres.create_database(service)
        case = ServiceCase(service=service, env={}, writes=())
        (tmp_path / service).mkdir()
        with running(case, url, tmp_path / service) as served, httpx.Client() as client:
            private_postgres.stop()
            unready = client.get(f"{served.url}/readyz")
            private_postgres.start()
            assert unready.status_code == 503
            assert unready.json()["status"] == "unavailable"
            assert client.get(f"{served.url}/readyz").status_code == 200
