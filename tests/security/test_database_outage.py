"""A database outage under load loses no acknowledged write, and each service recovers by itself.

Every service runs as a real process on one PostgreSQL server of the test's own (never the
machine's shared one), each on its own database, all take concurrent writes, and the server is
stopped under them. Within a deadline `/readyz`
answers 503; meanwhile every write is answered at once, 2xx (before the stop was noticed) or 503
in the service's error shape, never 500 and never a hang. The server is started again: `/readyz`
answers 200 within a deadline, with no restart of the service, writes are acknowledged again,
and every write acknowledged before, during or after the outage is there (its outbox event too).
Each provider service takes the writes of its kill -9 test. The mediator answers no exchange
whose record was not committed: every 2xx is in the message log, whose chain still verifies.
PostgreSQL pass only (`DPI_TEST_DB=postgres`): the SQLite pass skips it, naming the reason.
"""

from __future__ import annotations

import json
import subprocess
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager, ExitStack
from pathlib import Path

from bench.common import stop
from services.interop_layer.messagelog.trust import read_keys
from services.interop_layer.messagelog.verify import verify_database
from services.kernel.credentials import client_key
from tests.private_postgres import PrivatePostgres
from tests.security.kill9_support import (
    Call,
    Context,
    Load,
    Receiver,
    Served,
    ServiceCase,
    WriteKind,
    missing_after_restart,
    missing_from_outbox,
    receiver,
    running,
)
from tests.security.kill9_writes import CONSENT_POOL
from tests.security.mediator_support import HEALTH, logged, start_mediator, start_provider
from tests.security.outage_support import OutageLoad, OutagePlan, Target, load_through_outage
from tests.security.test_kill9_services import BIRTH_POOL, CASES

PLAN = OutagePlan()
# The registries' deaths and corrections use births registered beforehand, three writes each.
MAX_WRITES = {"registries": 3 * BIRTH_POOL, "consent": 3 * CONSENT_POOL}
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


def check_outage(target: Target, plan: OutagePlan) -> None:
    """What every service must show: refusals were 503 only, /readyz followed the database."""
    load, name = target.load, target.case.service
    assert load.failures == [], f"{name}: {len(load.failures)} answers neither 2xx nor 503"
    assert load.refusals.total() >= plan.refusals_during, name
    assert 0 <= load.unready_after <= plan.readiness_seconds, name
    assert json.loads(load.unready_body)["status"] == "unavailable", load.unready_body
    assert 0 <= load.ready_after <= plan.readiness_seconds, name
    assert load.acks_after >= plan.acks_after, name


def summary(target: Target) -> str:
    load = target.load
    return (
        f"{target.case.service}: {len(load.acked)} acknowledged, lost 0, "
        f"{load.refusals.total()} refused with 503; /readyz 503 after {load.unready_after:.2f} s, "
        f"200 after {load.ready_after:.2f} s"
    )


Started = tuple[ServiceCase, AbstractContextManager[Served], Served, Context]


def start_all(
    server: PrivatePostgres, data_dir: Path, stack: ExitStack, hook: Receiver
) -> list[tuple[ServiceCase, Served, Context]]:
    """Every provider service on its own database of `server`, started and set up side by side
    (the machine may be busy: one after the other, this took half a minute)."""

    def start(case: ServiceCase) -> Started:
        service_dir = data_dir / case.service
        service_dir.mkdir()
        started = running(case, server.create_database(case.service), service_dir)
        served = started.__enter__()
        context: Context = {"hook": hook}
        with served.client(case) as client:
            context |= case.setup(client, context)
        return case, started, served, context

    with ThreadPoolExecutor(len(CASES)) as pool:
        results = list(pool.map(start, CASES))
    for _, started, _, _ in results:
        stack.push(started.__exit__)
    return [(case, served, context) for case, _, served, context in results]


def test_a_database_outage_loses_no_acknowledged_write(
    private_postgres: PrivatePostgres, tmp_path: Path, processes: list[subprocess.Popen[bytes]]
) -> None:
    provider = start_provider(processes)
    mediator_dir = tmp_path / "mediator"
    mediator_dir.mkdir()
    log_url = private_postgres.create_database("interop_layer")
    with ExitStack() as stack, receiver() as hook, ThreadPoolExecutor(1) as aside:
        mediator_started = aside.submit(start_mediator, mediator_dir, log_url, provider, processes)
        services = start_all(private_postgres, tmp_path, stack, hook)
        mediator, base = mediator_started.result()
        targets = [
            Target(case, served.url, context, max_writes=MAX_WRITES.get(case.service, 5000))
            for case, served, context in services
        ]
        origin, path = base.split("/r1/", 1)
        exchanges = Target(EXCHANGES, origin, {"path": f"/r1/{path}"})

        load_through_outage([*targets, exchanges], private_postgres, PLAN)

        for target in [*targets, exchanges]:
            check_outage(target, PLAN)
        for (case, served, _), target in zip(services, targets, strict=True):
            assert served.process.poll() is None, f"{case.service} must survive the outage"
            acknowledged = Load(acked=target.load.acked)
            with served.client(case) as client:
                lost = missing_after_restart(case, client, acknowledged, poll_seconds=30)
                assert lost == [], f"{case.service}: {len(lost)} acknowledged writes lost"
                unevented = missing_from_outbox(
                    case, client, target.context, acknowledged, poll_seconds=30
                )
                assert unevented == [], f"{case.service}: {len(unevented)} lost their event"
    check_message_log(exchanges.load, mediator, mediator_dir, log_url)
    print("\noutage " + "\noutage ".join(summary(target) for target in [*targets, exchanges]))


def check_message_log(
    load: OutageLoad, mediator: subprocess.Popen[bytes], data_dir: Path, url: str
) -> None:
    """Every exchange answered 2xx is logged with that status; refusals named the log; the
    chain (continued across the outage) verifies."""
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
