"""Two registries replicas creating one new registry version at the same instant (one
PostgreSQL database): both answer the schema, the second as a change of the first's (as one
after the other), never a 500 from the unique name and version."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlmodel import Session, select

from services.kernel.db import Database
from services.registries.base import Base
from services.registries.catalog.models import Registry, RegistryCreate
from services.registries.catalog.service import save_registry
from tests.conftest import SHARED_POSTGRES
from tests.racing import commit_together
from tests.registries.test_data_api import PEOPLE_SCHEMA
from tests.support.replicas import shared_database

pytestmark = SHARED_POSTGRES


@pytest.fixture
def database(tmp_path: Path) -> Iterator[Database]:
    with shared_database("catalog_race", Base.metadata, tmp_path) as database:
        yield database


def test_two_creates_of_one_registry_at_once_both_succeed(database: Database) -> None:
    def create(session: Session, n: int) -> str:
        body = RegistryCreate.model_validate(
            {
                "code": "PPL",
                "name": "people",
                "description": f"replica {n}",
                "schema": PEOPLE_SCHEMA,
            }
        )
        return save_registry(session, body=body, actor=f"replica-{n}").description

    answers = commit_together(database.engine, create)
    assert sorted(answers) == ["replica 0", "replica 1"]
    with Session(database.engine) as session:
        rows = session.exec(select(Registry).where(Registry.name == "people")).all()
    assert len(rows) == 1 and rows[0].description in answers
