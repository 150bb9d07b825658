"""The national-volume benchmark's loaders write rows the services accept as their own: people
the ID system finds (and refuses to enrol twice), and message-log records bulk-copied through the
writer that verify as an intact chain. PostgreSQL only (`DPI_TEST_DB=postgres`), tiny sizes."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bench.national import id as national_id
from bench.national import main, pg
from bench.national.measure import Part
from bench.national.messagelog import fill
from services.id_registry.base import Base
from services.id_registry.errors import MosipError
from services.id_registry.identities.models import IdentityCreate
from services.id_registry.identities.service import enrol, get_by_uin
from services.interop_layer.messagelog.verify import verify_database
from services.interop_layer.settings import InteropSettings
from services.kernel.db import Database
from services.kernel.time import utcnow
from tests.conftest import USE_POSTGRES

pytestmark = pytest.mark.skipif(
    not USE_POSTGRES, reason="the benchmark runs on PostgreSQL: DPI_TEST_DB=postgres"
)


def test_bulk_people_are_found_and_not_enrolled_twice() -> None:
    with pg.database("test_id") as (sa_url, url):
        database = Database(sa_url, Base.metadata)
        database.create_all()
        try:
            national_id.bulk_people(url, 0, 40)
            demo = national_id._demo(url)
            assert len(demo) == 40 and len({uin for uin, _, _ in demo}) == 40
            with database.session() as session:
                for uin, name, born in demo[:5]:
                    found = get_by_uin(session=session, uin=uin)
                    assert f"{found.given_name} {found.family_name}" == name
                    assert found.date_of_birth.strftime("%Y/%m/%d") == born
                again = IdentityCreate.model_validate(national_id.person(7))
                with pytest.raises(MosipError) as refused:
                    enrol(
                        session=session, data=again, secret=b"s" * 32, now=utcnow(), publish=False
                    )
                assert "has the same name, date of birth and sex" in str(refused.value)
        finally:
            database.dispose()


def test_bulk_copied_log_records_verify_as_one_chain(tmp_path: Path) -> None:
    with pg.database("test_log") as (sa_url, url):
        settings = InteropSettings(database_url=sa_url, data_dir=tmp_path, log_format="text",
                                   declared_subscriptions=False)  # fmt: skip
        part = Part("log", 60, [])
        asyncio.run(fill(settings, 0, 120, part))
        asyncio.run(fill(settings, 120, 30, part))  # the chain goes on after a restart
        report = verify_database(sa_url)
        assert report.ok, report.reason
        assert report.checked == 150
        pg.execute(url, "UPDATE im_log_record SET status_code = 404 WHERE seq = 130")
        report = verify_database(sa_url)
        assert not report.ok and report.first_bad_seq == 130


def test_an_unknown_part_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--only", "id,census"])
    assert exited.value.code == 2
    assert "unknown part(s) census" in capsys.readouterr().err
