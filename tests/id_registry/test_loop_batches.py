"""PostgreSQL's group commit of pure IDA transactions on the event loop (`ida/loopbatches.py`):
authentications by UIN without an OTP share one write statement a batch, store what the worker
threads' batches store, and answer only what is committed: a write the server refuses is made
again for each request alone, a write lost on the way answers 503 to its whole batch."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any

import psycopg
import pytest

from services.id_registry.hashing import psut, reference
from services.id_registry.ida.loopbatches import LoopBatches, StatementRefused
from services.id_registry.ida.store import Hot
from services.id_registry.runtime import IdRegistryRuntime
from services.kernel.runtime import runtime_of
from services.kernel.testing import serve_in_process
from tests.conftest import USE_POSTGRES
from tests.id_registry.conftest import auth, codes, demo_of, envelope, ida_path, people
from tests.id_registry.test_batches import otp_bodies
from tests.id_registry.test_commits import audited
from tests.kernel.test_kept import terminate

pytestmark = [
    pytest.mark.anyio,
    pytest.mark.skipif(not USE_POSTGRES, reason="the event-loop group commit is PostgreSQL's"),
]


class Refusing:
    """A connection whose next writes fail: with the server's error, or lost on the way."""

    def __init__(self, connection: Any, failures: list[Exception]) -> None:
        self.connection = connection
        self.failures = failures
        self.closed = False

    async def execute(self, sql: str, params: Any = None) -> Any:
        if sql.startswith("WITH audit") and self.failures:
            raise self.failures.pop(0)
        return await self.connection.execute(sql, params)

    async def close(self) -> None:
        self.closed = True
        await self.connection.close()

    def fileno(self) -> int:
        return int(self.connection.fileno())


def refusing(loop: LoopBatches, failures: list[Exception]) -> None:
    healthy = loop.connect

    async def connect() -> Any:
        return Refusing(await healthy(), failures)

    loop.connect = connect


def pure(app: Any) -> LoopBatches:
    found = runtime_of(app, IdRegistryRuntime).loop_batches
    assert found is not None
    return found


async def test_authentications_by_uin_share_one_write_and_store_what_threads_store(make_app):
    app = make_app()
    async with serve_in_process(app) as client:
        crowd = await people(client)
        ida = runtime_of(app, IdRegistryRuntime)
        assert ida.batches is not None
        threads, before = ida.batches.commits, pure(app).commits
        bodies = [
            envelope(p["UIN"], txn=f"LOOP{i:03d}", demographics=demo_of(p))
            for i, p in enumerate(crowd * 3)
        ]
        results = await asyncio.gather(*(auth(client, body) for body in bodies))
        assert all(r["response"]["authStatus"] is True for r in results)
        assert 0 < pure(app).commits - before < len(bodies)
        assert ida.batches.commits == threads and pure(app).retried == 0
        # the same rows as a request on the worker threads' batches writes (an OTP one)
        (threaded,) = await otp_bodies(client, crowd[:1], "THREAD")
        await auth(client, threaded)
        (by_thread,) = [r for r in await audited(client, "THREAD000") if r["requestType"] == "auth"]
        for i, body in enumerate(bodies):
            person = crowd[i % len(crowd)]
            (row,) = await audited(client, body["transactionID"])
            assert row["authTypes"] == ["demo"] and row["status"] == "success"
            assert row["individualRef"] == reference(ida.secret, person["UIN"])
            assert row.keys() == by_thread.keys()
            assert datetime.fromisoformat(row["createdAt"]).utcoffset() is not None
            token = psut(ida.secret, uin=person["UIN"], partner_id="moh-hmis")
            assert results[i]["response"]["authToken"] == token
        with ida.database.session() as session:
            stored = {
                row[0]
                for row in session.connection().exec_driver_sql(
                    "SELECT token FROM partner_token WHERE partner_id = 'moh-hmis'"
                )
            }
        assert {r["response"]["authToken"] for r in results} <= stored


async def test_requests_that_spend_an_otp_or_a_vid_run_on_the_worker_threads(make_app):
    app = make_app()
    async with serve_in_process(app) as client:
        (body,) = await otp_bodies(client, (await people(client))[:1], "SPEND")
        ida = runtime_of(app, IdRegistryRuntime)
        assert ida.batches is not None
        threads, on_loop = ida.batches.commits, pure(app).commits
        assert (await auth(client, body))["response"]["authStatus"] is True
        assert ida.batches.commits == threads + 1 and pure(app).commits == on_loop


async def test_an_unknown_uin_is_answered_from_the_batch_read(make_app):
    app = make_app()
    async with serve_in_process(app) as client:
        unknown = envelope("6497869071", txn="LOOPNONE01", demographics={"dob": "1990/01/01"})
        assert codes(await auth(client, unknown)) == ["IDA-MLC-018"]
        assert [r["status"] for r in await audited(client, "LOOPNONE01")] == ["failure"]


async def test_a_write_the_server_refuses_is_made_again_for_each_request_alone(make_app):
    app = make_app()
    async with serve_in_process(app) as client:
        crowd = (await people(client))[:3]
        loop = pure(app)
        await loop.release()
        refusing(loop, [psycopg.errors.DeadlockDetected("deadlock detected")])
        bodies = [
            envelope(p["UIN"], txn=f"LOOPALONE{i}", demographics=demo_of(p))
            for i, p in enumerate(crowd)
        ]
        answers = await asyncio.gather(*(auth(client, body) for body in bodies))
        assert [a["response"]["authStatus"] for a in answers] == [True, True, True]
        assert loop.retried == 1
        for body in bodies:
            assert [r["status"] for r in await audited(client, body["transactionID"])] == [
                "success"
            ]


async def test_a_write_lost_on_the_way_answers_503_to_its_batch_then_recovers(make_app):
    app = make_app()
    async with serve_in_process(app) as client:
        crowd = (await people(client))[:2]
        loop = pure(app)
        await loop.release()
        lost = psycopg.OperationalError("server closed the connection unexpectedly")
        failures: list[Exception] = [lost, lost]  # one batch or two
        refusing(loop, failures)
        bodies = [
            envelope(p["UIN"], txn=f"LOOPLOST{i}", demographics=demo_of(p))
            for i, p in enumerate(crowd)
        ]
        failed = await asyncio.gather(
            *(client.post(ida_path("auth"), json=body) for body in bodies)
        )
        failures.clear()
        for response in failed:
            assert response.status_code == 503
            assert codes(response.json()) == ["IDA-MLC-007"]
            assert response.json()["response"] is None
        for body in bodies:
            assert await audited(client, body["transactionID"]) == []
        again = await auth(client, envelope(crowd[0]["UIN"], txn="LOOPLOST9", **_demo(crowd[0])))
        assert again["response"]["authStatus"] is True


async def test_an_unreachable_database_answers_503_with_retry_after(make_app):
    app = make_app()
    async with serve_in_process(app) as client:
        person = (await people(client))[0]
        loop = pure(app)
        await loop.release()
        healthy = loop.connect

        async def unreachable() -> Any:
            raise psycopg.OperationalError("connection refused")

        loop.connect = unreachable
        body = envelope(person["UIN"], txn="LOOPDOWN01", demographics=demo_of(person))
        response = await client.post(ida_path("auth"), json=body)
        loop.connect = healthy
        assert response.status_code == 503
        assert response.headers["Retry-After"]
        assert response.json()["errors"]
        assert await audited(client, "LOOPDOWN01") == []
        assert (await auth(client, body))["response"]["authStatus"] is True


async def test_a_job_that_runs_a_statement_fails_alone(make_app):
    app = make_app()
    async with serve_in_process(app):
        loop = pure(app)

        def sneaky(hot: Hot) -> str:
            hot.db.execute("UPDATE otp_message SET used_at = NULL")
            return "never"

        results = await asyncio.gather(
            loop.run(sneaky), loop.run(lambda hot: "fine"), return_exceptions=True
        )
        assert isinstance(results[0], StatementRefused) and results[1] == "fine"


def _demo(person: dict[str, Any]) -> dict[str, Any]:
    return {"demographics": demo_of(person)}


async def test_a_connection_the_server_dropped_while_idle_is_replaced(make_app):
    """A server restart (or an idle timeout) between batches costs no request a 503."""
    app = make_app()
    async with serve_in_process(app) as client:
        crowd = (await people(client))[:2]
        bodies = [envelope(p["UIN"], txn=f"LOOPIDLE{i}", demographics=demo_of(p)) for i, p in
                  enumerate(crowd)]  # fmt: skip
        assert (await auth(client, bodies[0]))["response"]["authStatus"] is True
        loop = pure(app)
        dropped = [lane.connection for lane in loop._lanes if lane.connection is not None]
        assert dropped
        for connection in dropped:
            terminate(connection)
        again = await asyncio.gather(*(auth(client, body) for body in bodies))
        assert all(r["response"]["authStatus"] is True for r in again)
        assert not {lane.connection for lane in loop._lanes} & set(dropped)
