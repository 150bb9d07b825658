"""Two ID system replicas on one PostgreSQL database, writing at once: an OTP is spent once
whichever replicas present it together, and a person's token for a partner is one record however
many replicas issue it at the same moment (each replica group-commits its requests,
`ida/batches.py`)."""

from __future__ import annotations

import anyio
import pytest
from sqlmodel import select

from services.id_registry.identities.models import PartnerToken
from services.kernel.runtime import kernel_state
from tests.conftest import SHARED_POSTGRES
from tests.id_registry.conftest import auth, codes, demo_of, envelope, people, send_otp
from tests.support.replicas import two_replicas

pytestmark = [
    pytest.mark.anyio,
    SHARED_POSTGRES,
]
AT_ONCE = 6


async def test_an_otp_presented_through_both_replicas_at_once_is_spent_once(make_app):
    first, second = make_app(), make_app()
    async with two_replicas(first, second) as (one, two):
        uin = (await people(one))[0]["UIN"]
        otp = await send_otp(one, uin, txn="RACE000001")
        body = envelope(uin, txn="RACE000001", otp=otp)
        outcomes: list[list[str]] = []

        async def present(n: int) -> None:
            outcomes.append(codes(await auth((one, two)[n % 2], body)))

        async with anyio.create_task_group() as group:
            for n in range(AT_ONCE):
                group.start_soon(present, n)
        # one authenticated; every other presentation finds the OTP spent (IDA-OTA-004)
        assert sorted(outcomes) == [[]] + [["IDA-OTA-004"]] * (AT_ONCE - 1), outcomes


async def test_one_token_record_however_many_replicas_issue_it_at_once(make_app):
    first, second = make_app(), make_app()
    async with two_replicas(first, second) as (one, two):
        person = (await people(one))[1]
        body = envelope(person["UIN"], txn="RACE000002", demographics=demo_of(person))
        tokens: list[str] = []

        async def authenticate(n: int) -> None:
            result = await auth((one, two)[n % 2], body)
            assert result["errors"] is None, result
            tokens.append(result["response"]["authToken"])

        async with anyio.create_task_group() as group:
            for n in range(AT_ONCE):
                group.start_soon(authenticate, n)
        assert len(tokens) == AT_ONCE and len(set(tokens)) == 1
        with kernel_state(first).database.session() as session:
            stored = session.exec(select(PartnerToken).where(PartnerToken.token == tokens[0]))
            assert len(stored.all()) == 1
