"""Two mediator replicas registering one new subsystem at the same instant (one PostgreSQL
database): both pass the existence check, one commits, the other answers the 409 a second
registration gets (`Client.Conflict`), not a 500 from the primary key."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlmodel import Session

from services.interop_layer.base import Base
from services.interop_layer.errors import Conflict
from services.interop_layer.members import service
from services.interop_layer.members.models import Subsystem, SubsystemCreate
from services.kernel.db import Database
from tests.conftest import SHARED_POSTGRES, scratch_database

pytestmark = SHARED_POSTGRES


@pytest.fixture
def database(tmp_path: Path) -> Iterator[Database]:
    with scratch_database("members_race", tmp_path / "unused.db") as url:
        database = Database(url, Base.metadata)
        database.create_all()
        try:
            yield database
        finally:
            database.dispose()


def test_the_second_of_two_registrations_at_once_is_a_conflict(database: Database) -> None:
    meeting = threading.Barrier(2, timeout=5.0)

    class TogetherSession(Session):
        def commit(self) -> None:  # both have passed the existence check here
            with contextlib.suppress(threading.BrokenBarrierError):
                meeting.wait()
            super().commit()

    def register(name: str) -> str:
        with TogetherSession(database.engine) as session:
            data = SubsystemCreate(id="DPI/GOV/MOA/farms", name=name)
            try:
                return service.register_subsystem(session=session, data=data).name
            except Conflict as exc:
                return f"{exc.status} {exc.code}: {exc.message}"

    with ThreadPoolExecutor(2) as pool:
        answers = sorted(pool.map(register, ["A", "B"]), key=len)
    assert answers[0] in ("A", "B")
    assert answers[1] == "409 Client.Conflict: Subsystem DPI/GOV/MOA/farms is already registered."
    with Session(database.engine) as session:
        assert session.get(Subsystem, "DPI/GOV/MOA/farms") is not None
