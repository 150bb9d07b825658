"""Create revisions and verify their hash chain."""

from __future__ import annotations

from typing import Any

import orjson
from sqlmodel import Session, col, select

from services.consent.hashing import canonical_json, sha1_hex
from services.consent.ids import new_id
from services.consent.revisions.models import Revision, RevisionPublic
from services.kernel.errors import NotFound
from services.kernel.time import iso_millis_z, utcnow

# What an erased revision's snapshot becomes: its hashes stay, so the chain still links.
ERASED = canonical_json({"erased": True})


def latest_revision(session: Session, *, object_id: str) -> Revision | None:
    statement = select(Revision).where(
        Revision.object_id == object_id, col(Revision.successor_id).is_(None)
    )
    return session.exec(statement).first()


def get_revision(session: Session, *, revision_id: str) -> Revision:
    revision = session.get(Revision, revision_id)
    if revision is None:
        raise NotFound(f"No revision {revision_id}.", code="revision-not-found")
    return revision


def create_revision(
    session: Session,
    *,
    schema_name: str,
    object_id: str,
    object_data: dict[str, Any],
    authorized_by_individual: str | None = None,
    authorized_by_other: str | None = None,
    predecessor_signature: str | None = None,
) -> Revision:
    """Append a revision; `predecessorHash` is inside the snapshot so the hash covers the chain."""
    previous = latest_revision(session, object_id=object_id)
    now = utcnow()
    predecessor_hash = previous.serialized_hash if previous else None
    snapshot = canonical_json(
        {
            "objectData": object_data,
            "schemaName": schema_name,
            "objectId": object_id,
            "signedWithoutObjectId": False,
            "timestamp": iso_millis_z(now),
            "authorizedByIndividual": authorized_by_individual,
            "authorizedByOther": authorized_by_other,
            "predecessorHash": predecessor_hash,
        }
    )
    revision = Revision(
        id=new_id(),
        schema_name=schema_name,
        object_id=object_id,
        serialized_snapshot=snapshot,
        serialized_hash=sha1_hex(snapshot),
        timestamp=now,
        authorized_by_individual=authorized_by_individual,
        authorized_by_other=authorized_by_other,
        predecessor_hash=predecessor_hash,
        predecessor_signature=predecessor_signature,
    )
    session.add(revision)
    if previous is not None:
        previous.successor_id = revision.id
        session.add(previous)
    session.flush()
    return revision


def revision_chain(session: Session, *, object_id: str) -> list[Revision]:
    """All revisions of an object, oldest first (following predecessor hashes)."""
    revisions = list(session.exec(select(Revision).where(Revision.object_id == object_id)))
    by_successor = {r.successor_id: r for r in revisions}
    chain: list[Revision] = []
    current = by_successor.get(None)
    while current is not None:
        chain.append(current)
        current = by_successor.get(current.id)
    chain.reverse()
    return chain


def public_chain(chain: list[Revision]) -> list[RevisionPublic]:
    """A chain (oldest first) as served: each revision with its successor."""
    return [r.public(successor=after) for r, after in zip(chain, [*chain[1:], None], strict=True)]


def chain_problems(revisions: list[Revision]) -> list[str]:
    """Why a chain does not verify (empty when it does): hashes, links and embedded links."""
    problems: list[str] = []
    previous: Revision | None = None
    for revision in revisions:
        expected = previous.serialized_hash if previous else None
        if revision.serialized_snapshot == ERASED:
            if revision.predecessor_hash != expected:
                problems.append(f"revision {revision.id}: predecessorHash does not link")
            previous = revision
            continue
        if sha1_hex(revision.serialized_snapshot) != revision.serialized_hash:
            problems.append(f"revision {revision.id}: serializedHash does not match its snapshot")
        if revision.predecessor_hash != expected:
            problems.append(f"revision {revision.id}: predecessorHash does not link")
        try:
            embedded = orjson.loads(revision.serialized_snapshot).get("predecessorHash")
        except orjson.JSONDecodeError:
            embedded = "<unreadable>"
        if embedded != expected:
            problems.append(f"revision {revision.id}: snapshot's predecessorHash does not link")
        previous = revision
    return problems
