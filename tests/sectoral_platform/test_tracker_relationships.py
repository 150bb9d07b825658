"""Tracker relationships: relationship types as metadata, nested and flat imports, reads, the
E4000-range checks, and deletion (explicit, cascading, and the cascade authorities)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.sectoral_platform.conftest import FACILITIES
from tests.sectoral_platform.tracker_helpers import PERSON, PROGRAM, child, codes, sync_import, uid

pytestmark = pytest.mark.anyio
MOTHER_CHILD = "RelMothChld"  # tracked entity (Person) -> tracked entity (Person)
PERSON_VISIT = "RelPersVist"  # tracked entity -> event, bidirectional
OTHER_TYPE = "OtherTetTyp"


def constraint(entity: str, **refs: str) -> dict[str, Any]:
    return {"relationshipEntity": entity, **{k: {"id": v} for k, v in refs.items()}}


async def setup_types(client: httpx.AsyncClient) -> None:
    metadata = {
        "trackedEntityTypes": [{"id": OTHER_TYPE, "name": "Household", "shortName": "Household"}],
        "relationshipTypes": [
            {
                "id": MOTHER_CHILD,
                "name": "Mother-Child",
                "fromToName": "Mother of",
                "toFromName": "Child of",
                "fromConstraint": constraint("TRACKED_ENTITY_INSTANCE", trackedEntityType=PERSON),
                "toConstraint": constraint("TRACKED_ENTITY_INSTANCE", trackedEntityType=PERSON),
            },
            {
                "id": PERSON_VISIT,
                "name": "Person-Visit",
                "bidirectional": True,
                "fromConstraint": constraint("TRACKED_ENTITY_INSTANCE", trackedEntityType=PERSON),
                "toConstraint": constraint("PROGRAM_STAGE_INSTANCE", program=PROGRAM),
            },
        ],
    }
    answer = await client.post("/api/metadata", json=metadata)
    assert answer.status_code == 200, answer.text
    assert answer.json()["response"]["stats"]["created"] == 3


async def test_relationship_type_metadata_is_checked(client: httpx.AsyncClient) -> None:
    bad = {
        "relationshipTypes": [
            {
                "id": "RelBadConst",
                "name": "Bad",
                "fromConstraint": constraint("TRACKED_ENTITY_INSTANCE"),
                "toConstraint": constraint("SOMETHING_ELSE"),
            },
            {
                "id": "RelBadRefer",
                "name": "Bad reference",
                "fromConstraint": constraint("PROGRAM_INSTANCE", program="NoSuchProgr"),
            },
        ]
    }
    answer = await client.post("/api/metadata", json=bad)
    assert answer.status_code == 409, answer.text
    errors = [
        (e["errorCode"], e.get("errorProperty"))
        for t in answer.json()["response"]["typeReports"]
        for o in t["objectReports"]
        for e in o["errorReports"]
    ]
    assert sorted(errors) == sorted(
        [
            ("E4024", "fromConstraint"),  # trackedEntityType missing
            ("E4027", "toConstraint"),  # unknown relationshipEntity
            ("E4000", "toConstraint"),  # required toConstraint missing
            ("E5002", "fromConstraint"),  # unknown program
        ]
    )
    assert (await client.get("/api/relationshipTypes/RelBadConst")).status_code == 404
    await setup_types(client)
    stored = (await client.get(f"/api/relationshipTypes/{MOTHER_CHILD}")).json()
    assert stored["fromConstraint"]["trackedEntityType"] == {"id": PERSON}
    assert stored["bidirectional"] is False


async def test_nested_and_flat_round_trip_then_delete(client: httpx.AsyncClient) -> None:
    await setup_types(client)
    mother, baby = child(first="Mama"), child(first="Baby", events=1)
    visit = baby["enrollments"][0]["events"][0]
    visit["event"] = uid()
    nested, flat = uid(), uid()
    # nested: inside the mother's payload, pointing at the baby of the same payload
    mother["relationships"] = [
        {
            "relationship": nested,
            "relationshipType": MOTHER_CHILD,
            "from": {"trackedEntity": mother["trackedEntity"]},
            "to": {"trackedEntity": {"trackedEntity": baby["trackedEntity"]}},
        }
    ]
    report = await sync_import(client, {"trackedEntities": [mother, baby]})
    assert report["status"] == "OK"
    rel_stats = report["bundleReport"]["typeReportMap"]["RELATIONSHIP"]["stats"]
    assert rel_stats == {"created": 1, "updated": 0, "deleted": 0, "ignored": 0, "total": 1}
    # flat: the mother to the baby's event, in a payload of its own
    body = {
        "relationships": [
            {
                "relationship": flat,
                "relationshipType": PERSON_VISIT,
                "from": {"trackedEntity": mother["trackedEntity"]},
                "to": {"event": visit["event"]},
            }
        ]
    }
    report = await sync_import(client, body)
    assert report["stats"]["created"] == 1
    listed = await client.get(
        "/api/tracker/relationships", params={"trackedEntity": mother["trackedEntity"]}
    )
    assert listed.status_code == 200, listed.text
    items = listed.json()["relationships"]
    assert [r["relationship"] for r in items] == [nested, flat]
    assert items[0] | {"createdAt": None, "createdAtClient": None, "updatedAt": None} == {
        "relationship": nested,
        "relationshipType": MOTHER_CHILD,
        "relationshipName": "Mother-Child",
        "bidirectional": False,
        "createdAt": None,
        "createdAtClient": None,
        "updatedAt": None,
        "from": {"trackedEntity": {"trackedEntity": mother["trackedEntity"]}},
        "to": {"trackedEntity": {"trackedEntity": baby["trackedEntity"]}},
    }
    assert items[1]["bidirectional"] is True
    assert items[1]["to"] == {"event": {"event": visit["event"]}}
    # from the other end, the event sees its relationship too
    by_event = await client.get("/api/tracker/relationships", params={"event": visit["event"]})
    assert [r["relationship"] for r in by_event.json()["relationships"]] == [flat]
    one = await client.get(f"/api/tracker/relationships/{nested}", params={"fields": "from"})
    assert one.json() == {"from": {"trackedEntity": {"trackedEntity": mother["trackedEntity"]}}}
    te = await client.get(
        f"/api/tracker/trackedEntities/{baby['trackedEntity']}",
        params={"fields": "trackedEntity,relationships[relationship]"},
    )
    assert te.json() == {
        "trackedEntity": baby["trackedEntity"],
        "relationships": [{"relationship": nested}],
    }
    event = await client.get(f"/api/tracker/events/{visit['event']}")
    assert "relationships" not in event.json()  # only when `fields` asks for them
    asked = await client.get(
        f"/api/tracker/events/{visit['event']}", params={"fields": "relationships[relationship]"}
    )
    assert asked.json() == {"relationships": [{"relationship": flat}]}
    # importing a stored relationship again changes nothing (DHIS2 does not update them)
    again = await sync_import(client, body, reportMode="WARNINGS")
    assert again["stats"]["ignored"] == 1
    assert [w["errorCode"] for w in again["validationReport"]["warningReports"]] == ["E4015"]
    # explicit delete of one relationship
    gone = await sync_import(
        client, {"relationships": [{"relationship": flat}]}, importStrategy="DELETE"
    )
    assert gone["stats"]["deleted"] == 1
    assert (await client.get(f"/api/tracker/relationships/{flat}")).status_code == 404
    # deleting the baby takes the mother-child relationship with it
    await sync_import(
        client,
        {"trackedEntities": [{"trackedEntity": baby["trackedEntity"]}]},
        importStrategy="DELETE",
    )
    assert (await client.get(f"/api/tracker/relationships/{nested}")).status_code == 404
    left = await client.get(
        "/api/tracker/relationships", params={"trackedEntity": mother["trackedEntity"]}
    )
    assert left.json()["relationships"] == []


async def test_relationship_validation_codes(client: httpx.AsyncClient) -> None:
    await setup_types(client)
    mother, baby = child(first="Mama"), child(first="Baby", events=1)
    await sync_import(client, {"trackedEntities": [mother, baby]})
    household = {
        "trackedEntity": uid(),
        "trackedEntityType": OTHER_TYPE,
        "orgUnit": FACILITIES[0],
        "attributes": [],
    }
    await sync_import(client, {"trackedEntities": [household]})
    m, b = mother["trackedEntity"], baby["trackedEntity"]

    def rel(rel_type: str | None, frm: Any, to: Any) -> dict[str, Any]:
        body: dict[str, Any] = {"relationship": uid(), "from": frm, "to": to}
        if rel_type is not None:
            body["relationshipType"] = rel_type
        return body

    cases = [
        (rel(MOTHER_CHILD, {"trackedEntity": m}, {"trackedEntity": m}), ["E4000"]),
        (rel(MOTHER_CHILD, {"trackedEntity": m, "event": "x"}, {"trackedEntity": b}), ["E4001"]),
        (rel("NoSuchType1", {"trackedEntity": m}, {"trackedEntity": b}), ["E4006"]),
        (rel(None, {"trackedEntity": m}, {"trackedEntity": b}), ["E1124"]),
        (rel(MOTHER_CHILD, {"trackedEntity": m}, {"enrollment": uid()}), ["E4010"]),
        (rel(MOTHER_CHILD, {"trackedEntity": m}, {"trackedEntity": uid()}), ["E4012"]),
        (
            rel(MOTHER_CHILD, {"trackedEntity": m}, {"trackedEntity": household["trackedEntity"]}),
            ["E4014"],
        ),
    ]
    for body, expected in cases:
        report = await sync_import(client, {"relationships": [body]}, status=409)
        assert codes(report) == expected, body
    first = rel(MOTHER_CHILD, {"trackedEntity": m}, {"trackedEntity": b})
    await sync_import(client, {"relationships": [first]})
    duplicate = rel(MOTHER_CHILD, {"trackedEntity": m}, {"trackedEntity": b})
    assert codes(await sync_import(client, {"relationships": [duplicate]}, 409)) == ["E4018"]
    # the inverse is another relationship for a one-way type ...
    inverse = rel(MOTHER_CHILD, {"trackedEntity": b}, {"trackedEntity": m})
    assert (await sync_import(client, {"relationships": [inverse]}))["stats"]["created"] == 1
    # ... and CREATE refuses a stored one
    report = await sync_import(client, {"relationships": [first]}, 409, importStrategy="CREATE")
    assert codes(report) == ["E4015"]
    missing = {"relationship": uid()}
    report = await sync_import(client, {"relationships": [missing]}, 409, importStrategy="DELETE")
    assert codes(report) == ["E4016"]
    # a relationship to an object that fails in the same payload cannot be persisted
    broken = child(first="Broken")
    broken["orgUnit"] = "NoSuchUnit1"
    link = rel(MOTHER_CHILD, {"trackedEntity": m}, {"trackedEntity": broken["trackedEntity"]})
    report = await sync_import(
        client, {"trackedEntities": [broken], "relationships": [link]}, 409, atomicMode="OBJECT"
    )
    assert "E5000" in codes(report)
    # read parameters: exactly one of trackedEntity, enrollment, event; unknown object -> 404
    assert (await client.get("/api/tracker/relationships")).status_code == 400
    both = {"trackedEntity": m, "event": uid()}
    assert (await client.get("/api/tracker/relationships", params=both)).status_code == 400
    unknown = await client.get("/api/tracker/relationships", params={"trackedEntity": uid()})
    assert unknown.status_code == 404


async def test_relationship_writes_need_the_capture_scope(client: httpx.AsyncClient) -> None:
    await setup_types(client)
    far, near = child(ou=FACILITIES[3]), child(ou=FACILITIES[0])
    await sync_import(client, {"trackedEntities": [far, near]})
    clerk = ("facility_clerk", "Clerk123!")  # captures in FACILITIES[0] only
    body = {
        "relationships": [
            {
                "relationship": uid(),
                "relationshipType": MOTHER_CHILD,
                "from": {"trackedEntity": far["trackedEntity"]},
                "to": {"trackedEntity": near["trackedEntity"]},
            }
        ]
    }
    answer = await client.post("/api/tracker", params={"async": "false"}, json=body, auth=clerk)
    assert answer.status_code == 409, answer.text
    assert codes(answer.json()) == ["E1000"]
    # the other way round too (a relationship shows both ends to whoever reads it)
    body["relationships"][0]["from"], body["relationships"][0]["to"] = (
        {"trackedEntity": near["trackedEntity"]},
        {"trackedEntity": far["trackedEntity"]},
    )
    answer = await client.post("/api/tracker", params={"async": "false"}, json=body, auth=clerk)
    assert codes(answer.json()) == ["E1000"]
    sibling = child(ou=FACILITIES[0])
    await sync_import(client, {"trackedEntities": [sibling]})
    body["relationships"][0]["to"] = {"trackedEntity": sibling["trackedEntity"]}
    answer = await client.post("/api/tracker", params={"async": "false"}, json=body, auth=clerk)
    assert answer.status_code == 200, answer.text


async def test_cascade_delete_needs_the_authority(client: httpx.AsyncClient) -> None:
    """Without F_TEI_CASCADE_DELETE / F_ENROLLMENT_CASCADE_DELETE (the seeded district officer
    holds neither) a parent goes only once its children are gone."""
    person = child(ou=FACILITIES[0], events=1)
    await sync_import(client, {"trackedEntities": [person]})
    te = person["trackedEntity"]
    enrollment = await client.get("/api/tracker/enrollments", params={"trackedEntity": te})
    en = enrollment.json()["enrollments"][0]["enrollment"]
    event = await client.get("/api/tracker/events", params={"enrollment": en})
    ev = event.json()["events"][0]["event"]
    officer = ("district_officer", "Officer123!")

    async def delete(body: dict[str, Any], status: int) -> dict[str, Any]:
        answer = await client.post(
            "/api/tracker",
            params={"async": "false", "importStrategy": "DELETE"},
            json=body,
            auth=officer,
        )
        assert answer.status_code == status, answer.text
        report: dict[str, Any] = answer.json()
        return report

    report = await delete({"trackedEntities": [{"trackedEntity": te}]}, 409)
    assert report["validationReport"]["errorReports"][0]["message"] == (
        "User: `district_officer`, is lacking 'F_TEI_CASCADE_DELETE' authority to delete "
        f"TrackedEntity: `{te}`."
    )
    assert codes(await delete({"enrollments": [{"enrollment": en}]}, 409)) == ["E1103"]
    await delete({"events": [{"event": ev}]}, 200)
    await delete({"enrollments": [{"enrollment": en}]}, 200)
    await delete({"trackedEntities": [{"trackedEntity": te}]}, 200)
    assert (await client.get(f"/api/tracker/trackedEntities/{te}")).status_code == 404


async def test_reads_show_relationships_with_both_ends_in_scope(client: httpx.AsyncClient) -> None:
    await setup_types(client)
    far, near, sibling = child(ou=FACILITIES[3]), child(ou=FACILITIES[0]), child(ou=FACILITIES[0])
    await sync_import(client, {"trackedEntities": [far, near, sibling]})
    links: list[dict[str, Any]] = [
        {"relationship": uid(), "relationshipType": MOTHER_CHILD,
         "from": {"trackedEntity": a["trackedEntity"]}, "to": {"trackedEntity": b["trackedEntity"]}}
        for a, b in ((far, near), (near, sibling))
    ]  # fmt: skip
    await sync_import(client, {"relationships": links})
    query = {"trackedEntity": near["trackedEntity"], "totalPages": "true"}
    everything = await client.get("/api/tracker/relationships", params=query)
    # one import: the same createdAt, so by uid
    assert [r["relationship"] for r in everything.json()["relationships"]] == sorted(
        str(link["relationship"]) for link in links
    )
    clerk = ("facility_clerk", "Clerk123!")
    own = await client.get("/api/tracker/relationships", params=query, auth=clerk)
    assert [r["relationship"] for r in own.json()["relationships"]] == [links[1]["relationship"]]
    assert own.json()["pager"]["total"] == 1
    hidden = await client.get(f"/api/tracker/relationships/{links[0]['relationship']}", auth=clerk)
    assert hidden.status_code == 404
