"""Group commit of IDA transactions: shared commits, answers only after them, single-use OTPs."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from services.id_registry.main import create_app
from services.id_registry.runtime import IdRegistryRuntime
from services.id_registry.settings import IdRegistrySettings
from services.kernel.runtime import runtime_of
from services.kernel.testing import serve_in_process
from tests.conftest import USE_POSTGRES
from tests.id_registry.conftest import (
    ADMIN,
    FakeClock,
    auth,
    codes,
    demo_of,
    envelope,
    ida_path,
    people,
)
from tests.id_registry.conftest import send_otp as request_otp

pytestmark = pytest.mark.anyio
sqlite_only = pytest.mark.skipif(USE_POSTGRES, reason="group commit runs on SQLite only")


async def audited(client: Any, txn: str) -> list[dict[str, Any]]:
    response = await client.get("/v1/audit", params={"transactionID": txn}, headers=ADMIN)
    assert response.status_code == 200
    return response.json()  # type: ignore[no-any-return]


async def test_concurrent_attempts_are_each_audited(make_app):
    app = make_app()
    async with serve_in_process(app) as client:
        crowd = await people(client)
        bodies = [
            envelope(p["UIN"], txn=f"CROWD{i:03d}", demographics=demo_of(p))
            for i, p in enumerate(crowd * 3)
        ]
        results = await asyncio.gather(*(auth(client, body) for body in bodies))
        assert all(r["response"]["authStatus"] is True for r in results)
        for i in range(len(bodies)):
            rows = await audited(client, f"CROWD{i:03d}")
            assert [(r["status"], r["authTypes"]) for r in rows] == [("success", ["demo"])]
        if not USE_POSTGRES:
            commits = runtime_of(app, IdRegistryRuntime).group_commit
            assert commits is not None
            assert commits.members >= len(bodies) and commits.commits < commits.members


class FailingCommit:
    """The loop connection, except that its next commits fail (as a full disk would)."""

    def __init__(self, connection: Any, failures: int) -> None:
        self.connection = connection
        self.failures = failures

    def execute(self, *args: Any) -> Any:
        return self.connection.execute(*args)

    def executemany(self, *args: Any) -> Any:
        return self.connection.executemany(*args)

    def rollback(self) -> None:
        self.connection.rollback()

    def commit(self) -> None:
        if self.failures:
            self.failures -= 1
            raise OSError("disk full")
        self.connection.commit()


@sqlite_only
async def test_a_failed_commit_answers_503_and_keeps_nothing(make_app):
    app = make_app()
    async with serve_in_process(app) as client:
        person = (await people(client))[0]
        otp = await request_otp(client, person["UIN"], txn="FAIL000001")
        commits = runtime_of(app, IdRegistryRuntime).group_commit
        assert commits is not None
        healthy = commits.connection
        commits.connection = FailingCommit(healthy, failures=2)
        body = envelope(person["UIN"], txn="FAIL000001", otp=otp)
        other = envelope(person["UIN"], txn="FAIL000002", demographics=demo_of(person))
        failed = await asyncio.gather(
            client.post(ida_path("auth"), json=body), client.post(ida_path("auth"), json=other)
        )
        commits.connection = healthy
        for response in failed:
            assert response.status_code == 503
            assert codes(response.json()) == ["IDA-MLC-007"]
        assert [r["requestType"] for r in await audited(client, "FAIL000001")] == ["otp"]
        assert await audited(client, "FAIL000002") == []
        # Nothing was acknowledged, so the OTP was not spent: it still works, once.
        assert (await auth(client, body))["response"]["authStatus"] is True
        assert codes(await auth(client, body)) == ["IDA-OTA-004"]


async def test_a_spent_otp_stays_spent_after_a_restart(settings_for):
    settings = settings_for("id_registry", IdRegistrySettings, seed_population=3)
    app = create_app(settings, clock=FakeClock(), run_drainer=False, configure_logs=False)
    async with serve_in_process(app) as client:
        uin = (await people(client))[0]["UIN"]
        otp = await request_otp(client, uin, txn="RESTART001")
        body = envelope(uin, txn="RESTART001", otp=otp)
        assert (await auth(client, body))["response"]["authStatus"] is True
    async with serve_in_process(
        create_app(settings, clock=FakeClock(), run_drainer=False, configure_logs=False)
    ) as client:
        assert codes(await auth(client, body)) == ["IDA-OTA-004"]
        rows = await audited(client, "RESTART001")
        assert sorted((r["requestType"], r["status"]) for r in rows) == [
            ("auth", "failure"),
            ("auth", "success"),
            ("otp", "success"),
        ]
