"""An unreachable database is told apart from a refused statement and answered 503 (try again)."""

from __future__ import annotations

import logging

import psycopg
import pytest
from fastapi import APIRouter
from sqlalchemy.exc import DataError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from services.kernel.app import create_service_app
from services.kernel.outage import database_unreachable, log_failure
from services.kernel.testing import serve_in_process

pytestmark = pytest.mark.anyio


def wrapped(orig: BaseException, *, invalidated: bool = False) -> OperationalError:
    return OperationalError("SELECT 1", {}, orig, connection_invalidated=invalidated)


REFUSED = psycopg.OperationalError("connection failed: Connection refused")


@pytest.mark.parametrize(
    ("exc", "unreachable"),
    [
        (REFUSED, True),  # raised by the client: no SQLSTATE
        (wrapped(REFUSED), True),
        (wrapped(psycopg.errors.AdminShutdown("terminating connection")), True),  # 57P01
        (wrapped(psycopg.errors.CannotConnectNow("the database system is starting up")), True),
        (wrapped(psycopg.errors.TooManyConnections("too many clients")), True),  # 53300
        (wrapped(RuntimeError("whatever"), invalidated=True), True),  # the pool saw a disconnect
        (PoolTimeout("QueuePool limit reached"), True),
        (wrapped(psycopg.errors.QueryCanceled("canceling statement")), False),  # 57014
        (wrapped(psycopg.errors.DeadlockDetected("deadlock")), False),
        (DataError("SELECT 1", {}, psycopg.errors.NumericValueOutOfRange("out of range")), False),
        (RuntimeError("a bug"), False),
    ],
    ids=repr,
)
def test_unreachable_means_the_server_cannot_be_reached(exc: Exception, unreachable: bool) -> None:
    assert database_unreachable(exc) is unreachable


def outage_router() -> APIRouter:
    router = APIRouter()

    @router.get("/down")
    async def down() -> None:
        raise wrapped(REFUSED)

    @router.get("/driver-down")
    def driver_down() -> None:
        raise psycopg.errors.AdminShutdown("terminating connection due to administrator command")

    @router.get("/deadlock")
    async def deadlock() -> None:
        raise wrapped(psycopg.errors.DeadlockDetected("deadlock detected"))

    return router


async def test_an_unreachable_database_answers_503_in_the_error_shape(settings_for):
    app = create_service_app(
        settings=settings_for("consent"), routers=[outage_router()], configure_logs=False
    )
    async with serve_in_process(app) as client:
        for path in ("/down", "/driver-down"):
            response = await client.get(path)
            assert response.status_code == 503, response.text
            assert response.headers["retry-after"] == "1"
            assert response.headers["content-type"] == "application/problem+json"
            body = response.json()
            assert body["code"] == "database-unavailable"
            assert "try again" in body["detail"]
            assert "Connection refused" not in response.text  # no driver detail leaks
        other = await client.get("/deadlock")
        assert other.status_code == 500
        assert other.json()["code"] == "internal-error"


def test_background_failures_are_one_line_during_an_outage(
    caplog: pytest.LogCaptureFixture,
) -> None:
    log = logging.getLogger("test.outage")
    with caplog.at_level(logging.WARNING, logger="test.outage"):
        log_failure(log, wrapped(REFUSED), "%s: round failed", "outbox")
        log_failure(log, RuntimeError("a bug"), "%s: round failed", "outbox")
    outage, bug = caplog.records
    assert outage.levelno == logging.WARNING and outage.exc_info is None
    assert outage.getMessage() == (
        "outbox: round failed (database unreachable: connection failed: Connection refused)"
    )
    assert bug.levelno == logging.ERROR
