"""Kill -9 under load loses no acknowledged write, in any provider service.

Each service runs as a real uvicorn process on its own database (SQLite, or PostgreSQL with
`DPI_TEST_DB=postgres`), takes concurrent writes of every kind listed for it below, and is
SIGKILLed while requests are in flight. Restarted on the same database, it must return every
write a client got a 2xx for, and hold (pending or published) the outbox event of each.
Writes that got no answer may or may not be there. Not marked `e2e` on purpose: the PostgreSQL
pass (`make test-postgres`) skips `e2e`, and durability must hold on both databases.
"""

from __future__ import annotations

import signal
from pathlib import Path
from typing import Any

import httpx
import pytest

from services.consent.seed import SCHOOL_ENROLMENT_ID
from services.id_registry.settings import DEFAULT_MISP_LICENSE_KEY
from services.kernel.credentials import MEDIATOR_KEY_HEADER, mediator_key
from services.registries.settings import SANDBOX_API_KEY
from services.sectoral_platform.seed.orgunits import uid_for
from tests.conftest import scratch_database
from tests.security.kill9_support import (
    Ack,
    Call,
    Context,
    ServiceCase,
    WriteKind,
    load_and_kill,
    missing_after_restart,
    missing_from_outbox,
    running,
)

CLIENTS = 6
MAX_WRITES = 450
KILL_AFTER_ACKS = 150
KILL_AFTER_SECONDS = 2.5
MIN_ACKED = 20  # fewer and the test would prove little
ADMIN_KEY = {"X-DPI-Admin-Key": "dpi-admin"}


def letters(i: int) -> str:
    """A name part unique to write `i` (names are letters only)."""
    out = ""
    while True:
        i, digit = divmod(i, 26)
        out += chr(ord("a") + digit)
        if i == 0:
            return out


def json_of(response: httpx.Response) -> Any:
    return response.json()


def listed(ack: Ack, response: httpx.Response) -> bool:
    return response.status_code == 200 and len(response.json()) > 0


# --- id_registry (MOSIP IDA mock) ----------------------------------------------------------

IDA = f"/idauthentication/v1/{{kind}}/{DEFAULT_MISP_LICENSE_KEY}/moh-hmis/moh-hmis-sandbox-key"


def ida_envelope(i: int, context: Context, kind: str) -> Call:
    person = context["people"][i % len(context["people"])]
    body: dict[str, Any] = {
        "id": f"mosip.identity.{kind}",
        "version": "1.0",
        "requestTime": "2026-03-01T09:00:00.000Z",
        "transactionID": f"KILL9{kind.upper()}{i:06d}",
        "individualId": person["UIN"],
        "individualIdType": "UIN",
    }
    if kind == "otp":
        body["otpChannel"] = ["PHONE", "EMAIL"]
    else:
        identity = person["identity"]
        body["consentObtained"] = True
        body["request"] = {
            "timestamp": "2026-03-01T09:00:00.000Z",
            "demographics": {"name": identity["fullName"], "dob": identity["dateOfBirth"]},
        }
    return Call("POST", IDA.format(kind=kind), json=body)


def ida_ack(i: int, response: httpx.Response) -> Ack:
    return {"txn": json_of(response)["transactionID"]}


def audit_of(ack: Ack) -> Call:
    return Call("GET", "/v1/audit", params={"transactionID": ack["txn"]})


ID_REGISTRY = ServiceCase(
    service="id_registry",
    env={
        "DPI_ID_REGISTRY_SEED_POPULATION": "5",
        "DPI_ID_REGISTRY_SUBSCRIBE_CIVIL_EVENTS": "false",
        "DPI_ID_REGISTRY_PUBLISH_EVENTS": "true",
    },
    headers=ADMIN_KEY,
    setup=lambda client: {"people": client.get("/v1/identities", params={"limit": 5}).json()},
    writes=(
        WriteKind("ida-auth", lambda i, c: ida_envelope(i, c, "auth"), ida_ack, audit_of, listed),
        WriteKind(
            "ida-otp",
            lambda i, c: ida_envelope(i, c, "otp"),
            ida_ack,
            lambda ack: Call("GET", "/v1/mock/otp-outbox", params={"transactionID": ack["txn"]}),
            listed,
        ),
        WriteKind(
            "enrolment",
            lambda i, c: Call(
                "POST",
                "/v1/identities",
                json={
                    "givenName": "Kilo",
                    "familyName": f"Nine{letters(i)}",
                    "dateOfBirth": "1990-01-01",
                    "gender": "female",
                    "civilRegistrationId": f"KILL9-{i}",
                },
            ),
            lambda i, r: {"uin": json_of(r)["UIN"], "civil": f"KILL9-{i}"},
            lambda ack: Call("GET", f"/v1/identities/{ack['uin']}"),
            outbox_id=lambda ack: ack["civil"],
        ),
        WriteKind(
            "vid",
            lambda i, c: Call(
                "POST",
                "/idrepository/v1/vid",
                json={"request": {"UIN": c["people"][i % 5]["UIN"], "vidType": "TEMPORARY"}},
            ),
            lambda i, r: {"vid": json_of(r)["response"]["VID"]},
            lambda ack: Call("GET", f"/idrepository/v1/vid/{ack['vid']}"),
        ),
    ),
    outbox=lambda client: {
        event["payload"]["civilRegistrationId"]
        for event in client.get(
            "/v1/events/outbox", params={"pending": False, "limit": 1000}
        ).json()
    },
)

# --- consent (GovStack Consent BB) -----------------------------------------------------------

POOL = MAX_WRITES // 3 + 1  # one person per consent record: a second one is a 409


def person(i: int) -> str:
    return f"kill9-person-{i // 3}"


def consent_setup(client: httpx.Client) -> Context:
    """The people whose records the load grants (one record per person and agreement)."""
    for n in range(POOL):
        body = {"individual": {"externalId": f"kill9-person-{n}"}}
        response = client.post("/service/individual/", json=body)
        assert response.status_code == 200, response.text
    return {}


CONSENT = ServiceCase(
    service="consent",
    env={},
    headers={"Authorization": "ApiKey dpi-consent-org-key"},
    setup=consent_setup,
    writes=(
        WriteKind(
            "individual",
            lambda i, c: Call(
                "POST",
                "/service/individual/",
                json={"individual": {"externalId": f"kill9-new-{i}"}},
            ),
            lambda i, r: {"id": json_of(r)["individual"]["id"]},
            lambda ack: Call("GET", f"/service/individual/{ack['id']}/"),
        ),
        WriteKind(
            "consent-record",
            lambda i, c: Call(
                "POST",
                f"/service/individual/record/data-agreement/{SCHOOL_ENROLMENT_ID}/",
                headers={"X-ConsentBB-IndividualId": person(i)},
            ),
            lambda i, r: {"id": json_of(r)["consentRecord"]["id"]},
            lambda ack: Call("GET", f"/audit/consent-record/{ack['id']}/"),
        ),
        WriteKind(
            "decision",
            lambda i, c: Call(
                "POST",
                "/v1/decisions",
                headers={MEDIATOR_KEY_HEADER: mediator_key()},
                json={
                    "subject": person(i),
                    "dataConsumer": "DPI/GOV/MOE/emis",
                    "dataProvider": "DPI/GOV/MOH/hmis",
                    "purpose": "school-enrolment",
                    "dataCategories": ["immunisation-status"],
                },
            ),
            lambda i, r: {"id": json_of(r)["decisionId"]},
            lambda ack: Call("GET", f"/v1/decisions/{ack['id']}"),
        ),
    ),
)

# --- registries (GovStack Digital Registries: the civil register) -----------------------------

BIRTHS = "/data/births/1.0"

REGISTRIES = ServiceCase(
    service="registries",
    env={"DPI_REGISTRIES_OUTBOX_ENABLED": "true"},
    headers={
        "Authorization": SANDBOX_API_KEY,
        "Information-Mediator-Client": "DPI/GOV/CRVS/registries",
        **ADMIN_KEY,
    },
    writes=(
        WriteKind(
            "birth",
            lambda i, c: Call(
                "POST",
                f"{BIRTHS}/create",
                json={
                    "write": {
                        "content": {
                            "child": {
                                "givenName": "Kilo",
                                "familyName": f"Nine{letters(i)}",
                                "sex": "female",
                                "dateOfBirth": "2026-01-02",
                                "placeOfBirth": "XD-R01-D01-F001",
                            },
                            "mother": {"givenName": "Zawadi", "familyName": f"Nine{letters(i)}"},
                        }
                    }
                },
            ),
            lambda i, r: {"id": json_of(r)["content"]["id"]},
            lambda ack: Call(
                "POST", f"{BIRTHS}/read", json={"query": {"content": {"id": ack["id"]}}}
            ),
            outbox_id=lambda ack: ack["id"],
        ),
    ),
    outbox=lambda client: {
        event["payload"]["civilRegistrationId"]
        for event in client.get("/admin/outbox", params={"limit": 1000}).json()["events"]
    },
)

# --- sectoral_platform (DHIS2 Web API) -------------------------------------------------------

FACILITIES = [uid_for(f"XD-R01-D0{d}-F00{f}") for d in (1, 2) for f in (1, 2, 3)]
ANC1, COC, DATA_SET = "u8jzPde0Igx", "HllvX50cXC0", "QX4ZTUbOt3a"


def slot(i: int) -> tuple[str, str]:
    """The (period, org unit) of data value write `i`: one of its own."""
    month, unit = divmod(i, len(FACILITIES))
    return f"{2001 + month // 12}{month % 12 + 1:02d}", FACILITIES[unit]


def data_value(i: int, context: Context) -> Call:
    period, unit = slot(i)
    values = [{"dataElement": ANC1, "value": str(i + 1)}]
    body = {"dataSet": DATA_SET, "period": period, "orgUnit": unit, "dataValues": values}
    return Call("POST", "/api/dataValueSets", json=body)


def data_value_read(ack: Ack) -> Call:
    period, unit = slot(int(ack["i"]))
    params = {"de": ANC1, "pe": period, "ou": unit, "co": COC}
    return Call("GET", "/api/dataValues", params=params)


def child(i: int, sync: bool) -> Call:
    """A child with a birth event giving BCG (which puts an event in the outbox)."""
    unit = FACILITIES[i % len(FACILITIES)]
    event = {
        "event": f"E{i:010d}",
        "programStage": "A03MvHHogjR",
        "orgUnit": unit,
        "occurredAt": "2026-01-05",
        "status": "COMPLETED",
        "dataValues": [
            {"dataElement": "UXz7xuGCEhU", "value": "3200"},
            {"dataElement": "bx6fsa0t90x", "value": "true"},
        ],
    }
    entity = {
        "trackedEntity": f"T{i:010d}",
        "trackedEntityType": "nEenWmSyUEp",
        "orgUnit": unit,
        "attributes": [
            {"attribute": "w75KJ2mc4zz", "value": f"Kilo{letters(i)}"},
            {"attribute": "iESIqZ0R0R0", "value": "2026-01-05"},
        ],
        "enrollments": [
            {
                "enrollment": f"N{i:010d}",
                "program": "IpHINAT79UW",
                "orgUnit": unit,
                "enrolledAt": "2026-01-05",
                "events": [event],
            }
        ],
    }
    params = {"async": "false" if sync else "true"}
    return Call("POST", "/api/tracker", params=params, json={"trackedEntities": [entity]})


def tracked(i: int, response: httpx.Response) -> Ack:
    return {"te": f"T{i:010d}", "event": f"E{i:010d}"}


def tracked_read(ack: Ack) -> Call:
    return Call("GET", f"/api/tracker/trackedEntities/{ack['te']}")


SECTORAL_PLATFORM = ServiceCase(
    service="sectoral_platform",
    env={
        "DPI_SECTORAL_PLATFORM_FACILITY_SYNC_ON_START": "false",
        "DPI_SECTORAL_PLATFORM_SUBSCRIBE_CIVIL_EVENTS": "false",
        "DPI_SECTORAL_PLATFORM_AGGREGATION_INTERVAL_SECONDS": "0",
    },
    auth=("admin", "district"),
    writes=(
        WriteKind(
            "dataValueSet",
            data_value,
            lambda i, r: {"i": str(i)},
            data_value_read,
            lambda ack, r: r.status_code == 200 and r.json() == [str(int(ack["i"]) + 1)],
        ),
        WriteKind(
            "tracker-sync",
            lambda i, c: child(i, sync=True),
            tracked,
            tracked_read,
            outbox_id=lambda ack: ack["event"],
        ),
        WriteKind(
            "tracker-async",
            lambda i, c: child(i, sync=False),
            tracked,
            tracked_read,
            outbox_id=lambda ack: ack["event"],
            eventually=True,
        ),
    ),
    outbox=lambda client: {
        event["payload"]["event"] for event in client.get("/api/events/outbox").json()["events"]
    },
)

CASES = [ID_REGISTRY, CONSENT, REGISTRIES, SECTORAL_PLATFORM]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_no_acknowledged_write_is_lost_to_kill_9(case: ServiceCase, tmp_path: Path) -> None:
    with scratch_database(f"kill9_{case.service}", tmp_path / f"{case.service}.db") as url:
        with running(case, url, tmp_path) as served:
            with served.client(case) as client:
                context = case.setup(client)
            load = load_and_kill(
                case,
                served,
                context,
                clients=CLIENTS,
                max_writes=MAX_WRITES,
                kill_after_acks=KILL_AFTER_ACKS,
                kill_after_seconds=KILL_AFTER_SECONDS,
            )
            assert served.process.wait(timeout=10) == -signal.SIGKILL
        assert load.refused == [], "every write must be valid, else the test proves nothing"
        assert load.killed, f"the load ended ({load.sent} writes) before the kill"
        assert load.in_flight_at_kill >= 1, "the kill must interrupt requests in flight"
        assert len(load.acked) >= MIN_ACKED
        with running(case, url, tmp_path) as served, served.client(case) as client:
            lost = missing_after_restart(case, client, load, poll_seconds=30)
            assert lost == [], f"{len(lost)} of {len(load.acked)} acknowledged writes lost"
            unevented = missing_from_outbox(case, client, load)
            assert unevented == [], f"{len(unevented)} acknowledged writes lost their event"
    kinds = {kind.name: sum(1 for k, _ in load.acked if k is kind) for kind in case.writes}
    print(
        f"\nkill9 {case.service}: {len(load.acked)} acknowledged {kinds}, lost 0; "
        f"{load.sent} sent, {load.unanswered} unanswered, "
        f"{load.in_flight_at_kill} in flight at kill"
    )
