"""Batch enrolment: many people in one transaction, each refused or enrolled as a single
enrolment would be, in the batch's order (MOSIP's registration processor works in batches).

Set-based: the dedupe keys (and civil registration ids) of the whole batch are looked up in one
query, the UINs drawn for it checked in one, the people inserted in one statement. The unique
indexes stay the final guard: a row a concurrent transaction stored first (same person, or the
same UIN drawn) is skipped by the insert, and the next round refuses it as a duplicate or draws
it another UIN."""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlmodel import Session

from services.id_registry import ids
from services.id_registry.errors import MosipError
from services.id_registry.identities import store
from services.id_registry.identities.created import Enrolled, publish_created
from services.id_registry.identities.models import IdentityCreate
from services.id_registry.identities.service import duplicate_of, identity_values, key_of

_system_rng = random.SystemRandom()
# each round settles at least the batch's first unsettled person; more than a few rounds means
# concurrent batches kept taking this one's UINs or people
MAX_ROUNDS = 20

Outcome = str | MosipError  # the UIN issued, or why not


class _Batch:
    """The batch's people, their keys, and what each has come to so far."""

    def __init__(self, people: Sequence[IdentityCreate], now: datetime) -> None:
        self.people = people
        self.keys = [key_of(data) for data in people]
        self.outcomes: list[Outcome | None] = [None] * len(people)
        self.row_ids: dict[int, int] = {}
        self.now = now

    def row(self, index: int, uin: str) -> dict[str, Any]:
        return identity_values(self.people[index], uin=uin, key=self.keys[index], now=self.now)


def enrol_batch(
    *,
    session: Session,
    people: Sequence[IdentityCreate],
    secret: bytes,
    now: datetime,
    rng: random.Random | None = None,
    publish: bool = True,
) -> list[Outcome]:
    """Enrol `people` in one transaction: per person, in order, the UIN issued or the error
    enrolling that person alone would have given (a duplicate of a stored record, or of an
    earlier person of the batch, names that record's UIN)."""
    batch = _Batch(people, now)
    pending = list(range(len(people)))
    for _ in range(MAX_ROUNDS):
        if not pending:
            break
        pending = _round(session, batch, pending, rng or _system_rng)
    else:
        session.rollback()
        raise MosipError(
            "IDA-MLC-007", "The batch could not be settled; try again", status_code=503
        )
    if publish:
        _publish(session, batch, secret)
    session.commit()
    settled = [outcome for outcome in batch.outcomes if outcome is not None]
    assert len(settled) == len(people)
    return settled


def _round(session: Session, batch: _Batch, pending: list[int], rng: random.Random) -> list[int]:
    """Enrol what of `pending` can be, refuse the duplicates; the indexes left for another round
    (a UIN or person a concurrent transaction took first, an earlier person of the batch who
    turned out to be a duplicate)."""
    people, keys, outcomes = batch.people, batch.keys, batch.outcomes
    stored = store.uins_by_key(session, {keys[i] for i in pending})
    civil_ids = {c for i in pending if (c := people[i].civilRegistrationId)}
    stored_civil = store.uins_by_civil_id(session, civil_ids) if civil_ids else {}
    candidates: list[int] = []
    later: list[tuple[int, int]] = []  # (index, the earlier candidate it duplicates)
    by_key: dict[str, int] = {}
    by_civil: dict[str, int] = {}
    for i in pending:
        civil = people[i].civilRegistrationId
        existing = stored.get(keys[i]) or (stored_civil.get(civil) if civil else None)
        if existing is not None:
            outcomes[i] = duplicate_of(existing)
            continue
        earlier = by_key.get(keys[i])
        if earlier is None and civil:
            earlier = by_civil.get(civil)
        if earlier is not None:
            later.append((i, earlier))
            continue
        by_key[keys[i]] = i
        if civil:
            by_civil[civil] = i
        candidates.append(i)
    uins = _fresh_uins(session, len(candidates), rng)
    # in the dedupe keys' order: two batches sharing people wait for each other in one order
    rows = sorted(
        (batch.row(i, uin) for i, uin in zip(candidates, uins, strict=True)),
        key=lambda row: str(row["dedupe_key"]),
    )
    inserted = store.insert_identities(session, rows) if rows else {}
    skipped = [i for i in candidates if keys[i] not in inserted]
    for i, uin in zip(candidates, uins, strict=True):
        if keys[i] in inserted:
            outcomes[i] = uin
            batch.row_ids[i] = inserted[keys[i]]
    again: list[int] = []
    if skipped:
        stored = store.uins_by_key(session, {keys[i] for i in skipped})
        for i in skipped:
            if keys[i] in stored:
                outcomes[i] = duplicate_of(stored[keys[i]])
            else:
                again.append(i)  # its UIN was taken meanwhile
    for i, earlier in later:
        issued = outcomes[earlier]
        if isinstance(issued, str):
            outcomes[i] = duplicate_of(issued)
        else:
            again.append(i)
    return sorted(again)


def _fresh_uins(session: Session, count: int, rng: random.Random) -> list[str]:
    """`count` distinct UINs none of which is issued yet (as far as committed rows tell)."""
    uins: list[str] = []
    drawn: set[str] = set()
    while len(uins) < count:
        fresh = []
        for uin in ids.generate_uins(rng, count - len(uins)):
            if uin not in drawn:
                drawn.add(uin)
                fresh.append(uin)
        taken = store.taken_uins(session, fresh) if fresh else set()
        uins.extend(u for u in fresh if u not in taken)
    return uins


def _publish(session: Session, batch: _Batch, secret: bytes) -> None:
    enrolled = []
    for i in sorted(batch.row_ids):
        uin = batch.outcomes[i]
        assert isinstance(uin, str)
        enrolled.append(Enrolled(batch.row_ids[i], uin, batch.people[i].civilRegistrationId))
    publish_created(session=session, secret=secret, now=batch.now, enrolled=enrolled)
