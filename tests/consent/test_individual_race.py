"""Two consent replicas registering individuals with one externalId at the same instant (one
PostgreSQL database): the second answers the 409 `individual-exists` a second registration gets,
naming the first, never a 500 from the unique column. The same for an update taking it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlmodel import Session, select

from services.consent.base import Base
from services.consent.individuals.models import Individual, IndividualBase
from services.consent.individuals.service import create_individual, update_individual
from services.kernel.db import Database
from services.kernel.errors import Conflict
from tests.conftest import SHARED_POSTGRES
from tests.racing import commit_together
from tests.support.replicas import shared_database

pytestmark = SHARED_POSTGRES
TOKEN = "psut-token-of-amina"


@pytest.fixture
def database(tmp_path: Path) -> Iterator[Database]:
    with shared_database("individual_race", Base.metadata, tmp_path) as database:
        yield database


def answers(database: Database, ids: list[str] | None = None) -> list[str]:
    def register(session: Session, n: int) -> str:
        data = IndividualBase(externalId=TOKEN)
        try:
            if ids is None:
                return create_individual(session, data=data).id
            return update_individual(session, individual_id=ids[n], data=data, body_id=None).id
        except Conflict as exc:
            return f"{exc.status} {exc.code}: {exc.message}"

    return commit_together(database.engine, register)


def test_two_registrations_of_one_person_at_once(database: Database) -> None:
    with Session(database.engine) as session:
        assert session.exec(select(Individual)).all() == []
    found = sorted(answers(database), key=len)
    assert (
        found[1]
        == f"409 individual-exists: An individual with this externalId already exists: {found[0]}."
    )


def test_two_updates_taking_one_externalid_at_once(database: Database) -> None:
    with Session(database.engine) as session:
        ids = [create_individual(session, data=IndividualBase()).id for _ in range(2)]
    found = sorted(answers(database, ids), key=len)
    assert found[0] in ids
    assert (
        found[1]
        == f"409 individual-exists: An individual with this externalId already exists: {found[0]}."
    )
