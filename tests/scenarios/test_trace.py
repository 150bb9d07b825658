"""The trace builder on synthetic message-log records: exchanges per step, classification, leaks."""

from sandbox.scenarios.results import Call
from sandbox.scenarios.runner import step_trace_id
from sandbox.trace.build import build_trace
from sandbox.trace.classify import load_classification
from tests.scenarios.synthetic import HEALTH, ID, RUN, SCHOOL, graph, record, run_of


def test_the_trace_holds_exactly_the_runs_exchanges_in_log_order_tied_to_steps():
    run = run_of("Health authenticates", "School asks immunisation status", "School is refused")
    records = [
        record(
            11,
            1,
            HEALTH,
            f"{ID}/idauth",
            requestFields=["individualId", "individualIdType", "request.demographics.dob"],
            responseFields=["response", "response.authStatus", "response.authToken"],
        ),
        record(
            12,
            2,
            SCHOOL,
            f"{HEALTH}/immunisation-status",
            method="GET",
            purpose="school-enrolment",
            decisionId="d-1",
            consentRecordId="c-1",
            requestFields=[],
            responseFields=["immunisationStatus", "trackedEntity"],
        ),
        record(
            13,
            3,
            SCHOOL,
            f"{HEALTH}/immunisation-status",
            status=500,
            purpose="school-enrolment",
            decisionId="d-2",
            upstreamMs=None,
            errorType="Server.ServerProxy.AccessDenied",
        ),
        # another run's exchange, and a delivery of this run's step 1 (same trace id)
        record(14, 1, "DPI/GOV/CRVS/registries", f"{ID}/pub", traceId="f" * 32),
        record(
            15,
            1,
            ID,
            f"{HEALTH}/events/identity-created",
            kind="delivery",
            path="http://127.0.0.1:8005/events/identity-created",  # a push
            upstreamMs=None,
            requestFields=["civilRegistrationId", "token"],
        ),
        # a pull of the same step: the subscriber asks the mediator, which answers from the room
        record(
            16,
            1,
            SCHOOL,
            f"{ID}/pull",
            kind="delivery",
            method="GET",
            upstreamMs=None,
            responseFields=["event.token", "eventType", "id"],
        ),
    ]
    trace = build_trace(run, reversed(records))
    expected = [
        (1, HEALTH, f"{ID}/idauth", 200, "not required", True),
        (2, SCHOOL, f"{HEALTH}/immunisation-status", 200, "permit", True),
        (3, SCHOOL, f"{HEALTH}/immunisation-status", 500, "deny", False),
        (1, ID, f"{HEALTH}/events/identity-created", 200, "not required", True),
        (1, SCHOOL, f"{ID}/pull", 200, "not required", False),
    ]
    assert graph(trace) == expected
    first = trace.exchanges[0]
    classes = {(f.direction, f.field): f.category for f in first.fields}
    assert classes == {
        ("request", "individualId"): "direct_identifier",
        ("request", "individualIdType"): "other",
        ("request", "request.demographics.dob"): "quasi_identifier",
        ("response", "response.authStatus"): "other",
        ("response", "response.authToken"): "sector_token",
    }
    assert {f.destination for f in first.fields if f.direction == "request"} == {ID}
    status_fields = {f.field: f.category for f in trace.exchanges[1].fields}
    assert status_fields == {
        "immunisationStatus": "health_data",
        "trackedEntity": "sector_token",
    }
    assert trace.exchanges[2].fields == []  # refused: nothing crossed
    pulled = {(f.source, f.destination, f.field, f.category) for f in trace.exchanges[4].fields}
    assert pulled == {
        (ID, SCHOOL, "event.token", "sector_token"),
        (ID, SCHOOL, "eventType", "other"),
        (ID, SCHOOL, "id", "other"),
    }
    assert trace.findings == []  # a UIN sent to the ID system itself is no leak


def test_the_boundary_check_flags_a_direct_identifier_reaching_a_sector():
    run = run_of("Leaky lookup", "Name and birth date to a sector")
    records = [
        record(
            21,
            1,
            SCHOOL,
            f"{HEALTH}/dhis2",
            requestFields=["trackedEntity"],
            responseFields=["attributes", "person.uin", "person.vid", "person.token"],
        ),
        record(
            22,
            2,
            HEALTH,
            f"{ID}/idauth",
            responseFields=["identity.fullName[].value", "identity.dob"],
        ),
        record(
            23,
            2,
            ID,
            f"{SCHOOL}/events/identity-created",
            kind="delivery",
            path="http://127.0.0.1:9000/events/identity-created",
            requestFields=["identity.givenName", "identity.dateOfBirth"],
        ),
    ]
    trace = build_trace(run, records)
    assert [(f["step"], f["destination"], f["direction"], f["reason"]) for f in trace.findings] == [
        (1, SCHOOL, "response", "direct identifier"),
        (2, HEALTH, "response", "identifying combination: name + date of birth"),
        (2, SCHOOL, "request", "identifying combination: name + date of birth"),
    ]
    assert trace.findings[0]["fields"] == ["person.uin", "person.vid"]


def test_an_ekyc_answer_releases_demographics_but_never_a_direct_identifier():
    kyc = f"/r1/{ID}/idauth/idauthentication/v1/kyc/lk/moh-hmis/key"
    demographics = ["identity.fullName[].value", "identity.dateOfBirth", "authToken"]
    records = [
        record(31, 1, HEALTH, f"{ID}/idauth", path=kyc, responseFields=demographics),
        record(32, 2, HEALTH, f"{ID}/idauth", path=kyc, responseFields=[*demographics, "uin"]),
        record(33, 3, HEALTH, f"{ID}/idauth", responseFields=demographics),
    ]
    trace = build_trace(run_of("eKYC", "eKYC leaking the UIN", "Not eKYC"), records)
    assert [(f["step"], f["reason"]) for f in trace.findings] == [
        (2, "direct identifier"),
        (3, "identifying combination: name + date of birth"),
    ]


def test_fields_come_from_the_runners_own_observation_when_the_log_holds_none():
    call = Call(
        method="POST",
        url="http://127.0.0.1:8002/r1/DPI/GOV/NIA/id-registry/idauth/x",
        target=f"{ID}/idauth",
        client=HEALTH,
        provider=f"{ID}/idauth",
        trace_id=step_trace_id(RUN, 1),
        x_road_id="x-31",
        request_headers={},
        request_body={"individualId": "1234567890", "request": {"otp": "111111"}},
        status=200,
        response_body={"response": {"authToken": "t"}},
    )
    run = run_of("Authenticate", calls={1: call})
    trace = build_trace(run, [record(31, 1, HEALTH, f"{ID}/idauth")])  # metadata-only log
    exchange = trace.exchanges[0]
    assert exchange.by_runner and exchange.fields_source == "runner"
    assert {(f.direction, f.field, f.category) for f in exchange.fields} == {
        ("request", "individualId", "direct_identifier"),
        ("request", "request.otp", "other"),
        ("response", "response.authToken", "sector_token"),
    }
    assert build_trace(run_of("x"), [record(32, 1, HEALTH, f"{ID}/idauth")]).exchanges[
        0
    ].fields_source == ("not recorded")


def test_classification_is_data_and_covers_the_classes():
    table = load_classification()
    assert [c.class_ for c in table.classes] == [
        "direct_identifier",
        "sector_token",
        "health_data",
        "quasi_identifier",
        "aggregate",
    ]
    cases = {
        "UIN": "direct_identifier",
        "request.individual_id": "direct_identifier",
        "tokens.moh-hmis": "sector_token",
        "perSubscriber.moe-emis.token": "sector_token",
        "dataValues[].value": "health_data",
        "identity.fullName[].value": "quasi_identifier",
        "child.dateOfBirth": "quasi_identifier",
        "organisationUnits[].name": "other",
        "rows": "aggregate",
        "headers[].name": "aggregate",
        "pager.page": "other",
    }
    assert {field: table.classify(field) for field in cases} == cases
    assert table.is_sector(SCHOOL) and not table.is_sector(ID)


def test_a_refusal_carries_the_mediators_reason_as_the_runner_received_it():
    call = Call(
        method="GET",
        url="http://127.0.0.1:8002/r1/DPI/GOV/MOH/hmis/immunisation-status/x",
        target=f"{HEALTH}/immunisation-status",
        client=SCHOOL,
        provider=f"{HEALTH}/immunisation-status",
        trace_id=step_trace_id(RUN, 1),
        x_road_id="x-61",
        request_headers={},
        request_body=None,
        status=500,
        response_body={
            "type": "Server.ServerProxy.AccessDenied",
            "message": "Consent denied: Consent record r1 was withdrawn.",
            "detail": "x-61",
        },
    )
    refused = record(
        61,
        1,
        SCHOOL,
        f"{HEALTH}/immunisation-status",
        status=500,
        decisionId="d-61",
        upstreamMs=None,
        errorType="Server.ServerProxy.AccessDenied",
    )
    exchange = build_trace(run_of("Refused", calls={1: call}), [refused]).exchanges[0]
    assert (exchange.consent, exchange.reason) == (
        "deny",
        "Consent denied: Consent record r1 was withdrawn.",
    )
    assert {f.source for f in exchange.fields} == {"mediator"}  # the answer came from it
