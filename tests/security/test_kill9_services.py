"""Kill -9 under load loses no acknowledged write, in any provider service.

Each service runs as a real uvicorn process on its own database (SQLite, or PostgreSQL with
`DPI_TEST_DB=postgres`), takes concurrent writes of every kind listed for it below, and is
SIGKILLed while requests are in flight. Restarted on the same database, it must return every
write a client got a 2xx for, and hold (pending or published) or deliver the event of each.
Writes that got no answer may or may not be there. Not marked `e2e` on purpose: the PostgreSQL
pass (`make test-postgres`) skips `e2e`, and durability must hold on both databases.
"""

from __future__ import annotations

import signal
from pathlib import Path

import httpx
import pytest

from services.consent.seed import SCHOOL_ENROLMENT_ID
from services.kernel.credentials import MEDIATOR_KEY_HEADER, mediator_key
from services.registries.settings import SANDBOX_API_KEY
from tests.conftest import scratch_database
from tests.security import kill9_writes as w
from tests.security.kill9_support import (
    Ack,
    Call,
    Context,
    Plan,
    ServiceCase,
    WriteKind,
    load_and_kill,
    missing_after_restart,
    missing_from_outbox,
    receiver,
    running,
    send,
)

PLAN = Plan(max_writes=3 * w.CONSENT_POOL)
ADMIN_KEY = {"X-DPI-Admin-Key": "dpi-admin"}
BIRTHS = "/data/births/1.0"


def birth(i: int) -> Call:
    child = {
        "givenName": "Kilo",
        "familyName": f"Nine{w.letters(i)}",
        "sex": "female",
        "dateOfBirth": "2026-01-02",
        "placeOfBirth": "XD-R01-D01-F001",
    }
    mother = {"givenName": "Zawadi", "familyName": f"Nine{w.letters(i)}"}
    return Call(
        "POST", f"{BIRTHS}/create", json={"write": {"content": {"child": child, "mother": mother}}}
    )


BIRTH_POOL = 60  # births registered before the load, for its deaths and corrections


def registered_births(client: httpx.Client, context: Context) -> Context:
    births = []
    for n in range(BIRTH_POOL):
        response = send(client, birth(100_000 + n))
        assert response.status_code == 200, response.text
        births.append(response.json()["content"]["id"])
    return {"births": births}


def pooled(i: int, context: Context) -> str:
    """The setup's birth that write `i` (three kinds in turn) registers a death for or corrects."""
    births: list[str] = context["births"]
    assert i // 3 < len(births), "more writes than registered births"
    return births[i // 3]


def death(i: int, context: Context) -> Call:
    content = {
        "birthRegistrationId": pooled(i, context),
        "deceased": {"givenName": "Kilo", "familyName": f"Nine{w.letters(100_000 + i // 3)}"},
        "dateOfDeath": "2026-03-04",
    }
    return Call("POST", "/data/deaths/1.0/create", json={"write": {"content": content}})


def correction(i: int, context: Context) -> Call:
    query = {"content": {"id": pooled(i, context)}}
    write = {"content": {"child": {"givenName": f"Corrected{w.letters(i)}"}}}
    return Call("PUT", f"{BIRTHS}/update", json={"query": query, "write": write})


def corrected(ack: Ack, response: httpx.Response) -> bool:
    given = f"Corrected{w.letters(int(ack['i']))}"
    return response.status_code == 200 and response.json()["content"]["child"]["givenName"] == given


def read(registry: str, record_id: str) -> Call:
    return Call(
        "POST", f"/data/{registry}/1.0/read", json={"query": {"content": {"id": record_id}}}
    )


DECISION = {
    "dataConsumer": "DPI/GOV/MOE/emis",
    "dataProvider": "DPI/GOV/MOH/hmis",
    "purpose": "school-enrolment",
    "dataCategories": ["immunisation-status"],
}

CASES = [
    ServiceCase(
        service="id_registry",
        env={
            "DPI_ID_REGISTRY_SEED_POPULATION": "5",
            "DPI_ID_REGISTRY_SUBSCRIBE_CIVIL_EVENTS": "false",
            "DPI_ID_REGISTRY_PUBLISH_EVENTS": "true",
        },
        headers=ADMIN_KEY,
        setup=w.id_registry_setup,
        writes=(
            WriteKind(
                "ida-auth",
                lambda i, c: w.ida(i, c, "auth"),
                w.ida_ack,
                lambda ack: Call("GET", "/v1/audit", params={"transactionID": ack["txn"]}),
                w.listed,
            ),
            WriteKind(
                "ida-otp",
                lambda i, c: w.ida(i, c, "otp"),
                w.ida_ack,
                lambda ack: Call(
                    "GET", "/v1/mock/otp-outbox", params={"transactionID": ack["txn"]}
                ),
                w.listed,
            ),
            WriteKind(
                "enrolment",
                w.enrolment,
                lambda i, r: {"uin": w.json_of(r)["UIN"], "civil": f"KILL9-{i}"},
                lambda ack: Call("GET", f"/v1/identities/{ack['uin']}"),
                outbox_id=lambda ack: ack["civil"],
            ),
            WriteKind(
                "vid",
                w.vid,
                lambda i, r: {"vid": w.json_of(r)["response"]["VID"]},
                lambda ack: Call("GET", f"/idrepository/v1/vid/{ack['vid']}"),
            ),
        ),
        outbox=w.identity_events,
    ),
    ServiceCase(
        service="consent",
        env={
            "DPI_CONSENT_ORG_API_KEY": "dpi-consent-org-key",
            "DPI_CONSENT_WEBHOOK_INTERVAL": "0.2",
        },
        headers={"Authorization": "ApiKey dpi-consent-org-key"},
        setup=w.consent_setup,
        writes=(
            WriteKind(
                "individual",
                lambda i, c: Call(
                    "POST", "/service/individual/", json={"individual": {"externalId": f"new-{i}"}}
                ),
                lambda i, r: {"id": w.json_of(r)["individual"]["id"]},
                lambda ack: Call("GET", f"/service/individual/{ack['id']}/"),
            ),
            WriteKind(
                "consent-record",
                lambda i, c: Call(
                    "POST",
                    f"/service/individual/record/data-agreement/{SCHOOL_ENROLMENT_ID}/",
                    headers={"X-ConsentBB-IndividualId": w.person(i)},
                ),
                lambda i, r: {"id": w.json_of(r)["consentRecord"]["id"]},
                lambda ack: Call("GET", f"/audit/consent-record/{ack['id']}/"),
                outbox_id=lambda ack: ack["id"],  # its consent.allowed webhook
            ),
            WriteKind(
                "decision",
                lambda i, c: Call(
                    "POST",
                    "/v1/decisions",
                    headers={MEDIATOR_KEY_HEADER: mediator_key()},
                    json={"subject": w.person(i), **DECISION},
                ),
                lambda i, r: {"id": w.json_of(r)["decisionId"]},
                lambda ack: Call("GET", f"/v1/decisions/{ack['id']}"),
            ),
        ),
        outbox=w.delivered_grants,
    ),
    ServiceCase(
        service="registries",
        env={
            "DPI_REGISTRIES_API_KEY": SANDBOX_API_KEY,
            "DPI_REGISTRIES_API_KEY_OWNER": "DPI/GOV/CRVS/registries",
            "DPI_REGISTRIES_OUTBOX_ENABLED": "true",
        },
        headers={
            "Authorization": SANDBOX_API_KEY,
            "Information-Mediator-Client": "DPI/GOV/CRVS/registries",
            **ADMIN_KEY,
        },
        setup=registered_births,
        writes=(
            WriteKind(
                "birth",
                lambda i, c: birth(i),
                lambda i, r: {"id": w.json_of(r)["content"]["id"]},
                lambda ack: read("births", ack["id"]),
                outbox_id=lambda ack: ack["id"],
            ),
            WriteKind(
                "death",
                death,
                lambda i, r: {"id": w.json_of(r)["content"]["id"]},
                lambda ack: read("deaths", ack["id"]),
                outbox_id=lambda ack: ack["id"],
            ),
            WriteKind(
                "correction",
                correction,
                lambda i, r: {"i": str(i), "id": w.json_of(r)["content"]["id"]},
                lambda ack: read("births", ack["id"]),
                corrected,
            ),
        ),
        outbox=lambda client, context: {
            event["payload"]["civilRegistrationId"]
            for event in client.get("/admin/outbox", params={"limit": 1000}).json()["events"]
        },
    ),
    ServiceCase(
        service="sectoral_platform",
        env={
            "DPI_SECTORAL_PLATFORM_ADMIN_PASSWORD": "district",
            "DPI_SECTORAL_PLATFORM_FACILITY_SYNC_ON_START": "false",
            "DPI_SECTORAL_PLATFORM_SUBSCRIBE_CIVIL_EVENTS": "false",
            "DPI_SECTORAL_PLATFORM_AGGREGATION_INTERVAL_SECONDS": "0",
        },
        auth=("admin", "district"),
        writes=(
            WriteKind(
                "dataValueSet",
                w.data_value,
                lambda i, r: {"i": str(i)},
                w.data_value_read,
                w.data_value_found,
            ),
            WriteKind(
                "tracker-sync",
                lambda i, c: w.child(i, sync=True),
                w.tracked,
                w.tracked_read,
                outbox_id=lambda ack: ack["event"],
            ),
            WriteKind(
                "tracker-async",  # acknowledged as a queued job: it must run after the restart
                lambda i, c: w.child(i, sync=False),
                w.tracked,
                w.tracked_read,
                outbox_id=lambda ack: ack["event"],
                eventually=True,
            ),
        ),
        outbox=w.immunisation_events,
    ),
]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_no_acknowledged_write_is_lost_to_kill_9(case: ServiceCase, tmp_path: Path) -> None:
    database = scratch_database(f"kill9_{case.service}", tmp_path / f"{case.service}.db")
    with database as url, receiver() as hook:
        context = {"hook": hook}
        with running(case, url, tmp_path) as served:
            with served.client(case) as client:
                context |= case.setup(client, context)
            load = load_and_kill(case, served, context, PLAN)
            assert served.process.wait(timeout=10) == -signal.SIGKILL
        assert load.refused == [], "every write must be valid, else the test proves nothing"
        assert load.killed, f"the load ended ({load.sent} writes) before the kill"
        assert load.in_flight_at_kill >= 1, "the kill must interrupt requests in flight"
        assert len(load.per_kind()) == len(case.writes)
        assert min(load.per_kind().values()) >= PLAN.min_per_kind
        with running(case, url, tmp_path) as served, served.client(case) as client:
            lost = missing_after_restart(case, client, load, poll_seconds=30)
            assert lost == [], f"{len(lost)} of {len(load.acked)} acknowledged writes lost"
            unevented = missing_from_outbox(case, client, context, load, poll_seconds=30)
            assert unevented == [], f"{len(unevented)} acknowledged writes lost their event"
    print(
        f"\nkill9 {case.service}: {len(load.acked)} acknowledged {dict(load.per_kind())}, lost 0; "
        f"{load.sent} sent, {load.unanswered} unanswered, "
        f"{load.in_flight_at_kill} in flight at kill"
    )
