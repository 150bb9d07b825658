"""Two mediator replicas registering one new subsystem at the same instant (one PostgreSQL
database): both pass the existence check, one commits, the other answers the 409 a second
registration gets (`Client.Conflict`), not a 500 from the primary key."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlmodel import Session

from services.interop_layer.base import Base
from services.interop_layer.errors import Conflict
from services.interop_layer.members import service
from services.interop_layer.members.models import Subsystem, SubsystemCreate
from services.kernel.db import Database
from tests.conftest import SHARED_POSTGRES
from tests.racing import commit_together
from tests.support.replicas import shared_database

pytestmark = SHARED_POSTGRES


@pytest.fixture
def database(tmp_path: Path) -> Iterator[Database]:
    with shared_database("members_race", Base.metadata, tmp_path) as database:
        yield database


def test_the_second_of_two_registrations_at_once_is_a_conflict(database: Database) -> None:
    def register(session: Session, n: int) -> str:
        data = SubsystemCreate(id="DPI/GOV/MOA/farms", name="AB"[n])
        try:
            return service.register_subsystem(session=session, data=data).name
        except Conflict as exc:
            return f"{exc.status} {exc.code}: {exc.message}"

    answers = sorted(commit_together(database.engine, register), key=len)
    assert answers[0] in ("A", "B")
    assert answers[1] == "409 Client.Conflict: Subsystem DPI/GOV/MOA/farms is already registered."
    with Session(database.engine) as session:
        assert session.get(Subsystem, "DPI/GOV/MOA/farms") is not None
