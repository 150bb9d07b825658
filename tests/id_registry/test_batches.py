"""PostgreSQL's group commit of IDA transactions on worker threads (`ida/batches.py`), which runs
those that write more than their deferred inserts (an OTP or a VID spent): a failed commit
answers 503 and keeps nothing; a failed statement makes each request of its batch run again
alone. (Authentications by UIN without an OTP are batched on the event loop: `loopbatches`.)"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from anyio import to_thread

from services.id_registry.ida.batches import ThreadedGroupCommit
from services.id_registry.runtime import IdRegistryRuntime
from services.kernel.runtime import runtime_of
from services.kernel.testing import serve_in_process
from tests.conftest import USE_POSTGRES
from tests.id_registry.conftest import auth, codes, envelope, ida_path, people, send_otp
from tests.id_registry.test_commits import audited

pytestmark = [
    pytest.mark.anyio,
    pytest.mark.skipif(not USE_POSTGRES, reason="the threaded group commit is PostgreSQL's"),
]


class Failures:
    """How many of the next commits (or `executemany`s) fail, shared by every connection;
    and the statements executed one by one."""

    def __init__(self, commits: int = 0, inserts: int = 0) -> None:
        self.commits = commits
        self.inserts = inserts
        self.executed: list[str] = []


class FailingCursor:
    def __init__(self, cursor: Any, failures: Failures) -> None:
        self.cursor = cursor
        self.failures = failures

    def __enter__(self) -> FailingCursor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.cursor.close()

    def _insert(self) -> None:
        if self.failures.inserts:
            self.failures.inserts -= 1
            raise OSError("lost the connection")

    def executemany(self, *args: Any) -> Any:
        self._insert()
        return self.cursor.executemany(*args)

    def copy(self, *args: Any) -> Any:
        self._insert()
        return self.cursor.copy(*args)


class FailingDriver:
    def __init__(self, driver: Any, failures: Failures) -> None:
        self.driver = driver
        self.failures = failures

    def execute(self, sql: str, *args: Any) -> Any:
        self.failures.executed.append(sql)
        return self.driver.execute(sql, *args)

    def cursor(self) -> FailingCursor:
        return FailingCursor(self.driver.cursor(), self.failures)

    def commit(self) -> None:
        if self.failures.commits:
            self.failures.commits -= 1
            raise OSError("disk full")
        self.driver.commit()


class FailingPooled:
    def __init__(self, raw: Any, failures: Failures) -> None:
        self.raw = raw
        self.dbapi_connection = FailingDriver(raw.dbapi_connection, failures)

    def rollback(self) -> None:
        self.raw.rollback()

    def invalidate(self) -> None:
        self.raw.invalidate()

    def close(self) -> None:
        self.raw.close()


class FailingEngine:
    def __init__(self, engine: Any, failures: Failures) -> None:
        self.engine = engine
        self.failures = failures

    def raw_connection(self) -> FailingPooled:
        return FailingPooled(self.engine.raw_connection(), self.failures)


async def failing(app: Any, failures: Failures) -> tuple[ThreadedGroupCommit, Any]:
    batches = runtime_of(app, IdRegistryRuntime).batches
    assert batches is not None
    await to_thread.run_sync(batches.release)
    healthy = batches.engine
    batches.engine = FailingEngine(healthy, failures)  # type: ignore[assignment]
    return batches, healthy


async def otp_bodies(client: Any, crowd: list[dict[str, Any]], prefix: str) -> list[Any]:
    """An authentication with a fresh OTP for each of `crowd` (their own transactions)."""
    bodies = []
    for i, person in enumerate(crowd):
        txn = f"{prefix}{i:03d}"
        otp = await send_otp(client, person["UIN"], txn=txn)
        bodies.append(envelope(person["UIN"], txn=txn, otp=otp))
    return bodies


async def test_concurrent_attempts_share_commits(make_app):
    app = make_app()
    async with serve_in_process(app) as client:
        bodies = await otp_bodies(client, await people(client), "BATCH")
        ida = runtime_of(app, IdRegistryRuntime)
        assert ida.batches is not None and ida.loop_batches is not None
        before, on_loop = ida.batches.commits, ida.loop_batches.commits
        results = await asyncio.gather(*(auth(client, body) for body in bodies))
        assert all(r["response"]["authStatus"] is True for r in results)
        assert 0 < ida.batches.commits - before < len(bodies)
        assert ida.batches.retried == 0
        assert ida.loop_batches.commits == on_loop  # an OTP is spent: not a pure transaction
        for body in bodies:
            audits = await audited(client, body["transactionID"])
            assert sorted(r["requestType"] for r in audits) == ["auth", "otp"]
            assert {r["status"] for r in audits} == {"success"}


async def test_a_failed_commit_answers_503_and_keeps_nothing(make_app):
    app = make_app()
    async with serve_in_process(app) as client:
        body, other = await otp_bodies(client, (await people(client))[:2], "PGFAIL")
        batches, healthy = await failing(app, Failures(commits=2))
        failed = await asyncio.gather(
            client.post(ida_path("auth"), json=body), client.post(ida_path("auth"), json=other)
        )
        await to_thread.run_sync(batches.release)
        batches.engine = healthy
        for response in failed:
            assert response.status_code == 503
            assert codes(response.json()) == ["IDA-MLC-007"]
        for sent in (body, other):
            assert [r["requestType"] for r in await audited(client, sent["transactionID"])] == [
                "otp"
            ]
        # Nothing was acknowledged, so the OTPs were not spent: each still works, once.
        for sent in (body, other):
            assert (await auth(client, sent))["response"]["authStatus"] is True
            assert codes(await auth(client, sent)) == ["IDA-OTA-004"]


async def test_a_failed_statement_runs_each_request_again_alone(make_app):
    app = make_app()
    async with serve_in_process(app) as client:
        bodies = await otp_bodies(client, (await people(client))[:2], "PGALONE")
        batches, healthy = await failing(app, Failures(inserts=1))
        answers = await asyncio.gather(*(auth(client, body) for body in bodies))
        await to_thread.run_sync(batches.release)
        batches.engine = healthy
        assert [a["response"]["authStatus"] for a in answers] == [True, True]
        assert batches.retried == 1
        for body in bodies:
            rows = await audited(client, body["transactionID"])
            assert sorted((r["requestType"], r["status"]) for r in rows) == [
                ("auth", "success"),
                ("otp", "success"),
            ]
            assert codes(await auth(client, body)) == ["IDA-OTA-004"]


async def test_a_batch_reads_its_people_in_one_statement(make_app):
    app = make_app()
    async with serve_in_process(app) as client:
        bodies = await otp_bodies(client, (await people(client))[:3], "PGREAD")
        runtime_of(app, IdRegistryRuntime).people.drop()  # as after a restart
        batches, healthy = await failing(app, recorded := Failures())
        unknown = envelope("6497869071", txn="PGREAD0000", otp="123456")
        answers = await asyncio.gather(*(auth(client, body) for body in [unknown, *bodies]))
        await to_thread.run_sync(batches.release)
        batches.engine = healthy
        assert codes(answers[0]) == ["IDA-MLC-018"]
        assert [a["response"]["authStatus"] for a in answers[1:]] == [True, True, True]
        statements = runtime_of(app, IdRegistryRuntime).statements
        batched = statements.identities_by_uin
        assert batched is not None
        # Every person came with their batch; the unknown UIN was not looked up again alone.
        assert recorded.executed.count(statements.identity_by_uin.sql) == 0
        assert 1 <= recorded.executed.count(batched.sql) <= len(answers)
