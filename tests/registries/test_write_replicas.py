"""Two replicas of the registries on one PostgreSQL database writing at once: a unique field
written through both stays unique, and facilities added through both get codes of their own.
The replicas here share a process, so the process's own write locks are taken out: what is
tested is what holds between processes."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from typing import Any

import anyio
import pytest
from sqlmodel import Session

from services.registries.data import service as records
from services.registries.data import validation
from services.registries.facilities import service as facilities
from services.registries.main import create_app
from tests.conftest import SHARED_POSTGRES
from tests.registries.civil_records import birth
from tests.registries.conftest import MakeSettings
from tests.registries.test_civil import ADMIN, CRVS
from tests.registries.test_outbox import register
from tests.support.replicas import two_replicas

pytestmark = [
    pytest.mark.anyio,
    SHARED_POSTGRES,
]


@pytest.fixture(autouse=True)
def separate_processes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(records, "_write_lock", contextlib.nullcontext())
    monkeypatch.setattr(facilities, "_write_lock", contextlib.nullcontext())


async def test_a_unique_field_stays_unique_when_two_replicas_write_it_at_once(
    make_settings: MakeSettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = make_settings()
    first, second = create_app(settings), create_app(settings)
    async with two_replicas(first, second) as (one, two):
        births = [await register(one, "births", birth(name)) for name in ("Amani", "Imani")]
        other_death = await register(one, "deaths", death(births[1]))
        # the two writers wait (up to a second) for each other before checking uniqueness:
        # without the registry's row lock both would find the value free
        meeting = threading.Barrier(2, timeout=1.0)
        check = validation._check_uniques

        def check_together(session: Session, **kwargs: Any) -> None:
            with contextlib.suppress(threading.BrokenBarrierError):
                meeting.wait()
            check(session, **kwargs)

        monkeypatch.setattr(validation, "_check_uniques", check_together)
        answers = await asyncio.gather(
            one.post(
                "/data/deaths/1.0/create",
                json={"write": {"content": death(births[0])}},
                headers=CRVS,
            ),
            two.put(
                "/data/deaths/1.0/update",
                json={
                    "query": {"content": {"id": other_death}},
                    "write": {"content": {"birthRegistrationId": births[0]}},
                },
                headers=CRVS,
            ),
        )
        assert sorted(a.status_code for a in answers) == [200, 409], [a.text for a in answers]


def death(birth_registration_id: str) -> dict[str, Any]:
    return {
        "birthRegistrationId": birth_registration_id,
        "dateOfDeath": "2026-02-01",
        "deceased": {"givenName": "Amani", "familyName": "Okello"},
    }


async def test_facilities_added_through_two_replicas_get_codes_of_their_own(
    make_settings: MakeSettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    # each writer waits (up to a second) for the other before it picks a code: without the
    # transaction lock both would pick the same one
    meeting = threading.Barrier(2, timeout=1.0)
    next_code = facilities._next_code

    def next_code_together(session: Session, district_id: str) -> str:
        with contextlib.suppress(threading.BrokenBarrierError):
            meeting.wait()
        return next_code(session, district_id)

    monkeypatch.setattr(facilities, "_next_code", next_code_together)
    settings = make_settings()
    first, second = create_app(settings), create_app(settings)
    async with two_replicas(first, second) as (one, two):
        codes: list[str] = []

        async def add(n: int) -> None:
            answer = await (one, two)[n % 2].post(
                "/admin/facilities",
                json={"name": f"Clinic {n}", "district": "XD-R01-D02", "type": "clinic"},
                headers=ADMIN,
            )
            assert answer.status_code in (200, 201), answer.text
            codes.append(answer.json().get("code") or answer.json()["id"])

        async with anyio.create_task_group() as group:
            for n in range(2):
                group.start_soon(add, n)
        assert len(set(codes)) == 2
