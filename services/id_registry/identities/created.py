"""What an enrolment adds to the outbox, single or in a batch: per person enrolled,
`identity-created` with each active partner's own token (PSUT), the tokens recorded for token
exchange. Set-based: one query for the partners, one insert each for the tokens and the events."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, NamedTuple

from sqlmodel import Session

from services.id_registry.events.models import IDENTITY_CREATED
from services.id_registry.hashing import psut
from services.id_registry.identities import store
from services.kernel.time import iso_z


class Enrolled(NamedTuple):
    row_id: int  # the identity's row
    uin: str
    civil_registration_id: str | None


def publish_created(
    *, session: Session, secret: bytes, now: datetime, enrolled: Sequence[Enrolled]
) -> None:
    """Add the `identity-created` events and partner tokens of `enrolled` (new UINs: new
    tokens); the caller commits them together with the identities."""
    partners = store.active_partners(session)
    tokens: list[dict[str, Any]] = []
    events: list[dict[str, Any]] = []
    created = iso_z(now)
    for person in enrolled:
        mine = {partner: psut(secret, uin=person.uin, partner_id=partner) for partner in partners}
        tokens.extend(
            {"identity_id": person.row_id, "partner_id": partner, "token": token, "issued_at": now}
            for partner, token in mine.items()
        )
        payload = {
            "civilRegistrationId": person.civil_registration_id,
            "createdAt": created,
            "perSubscriber": {partner: {"token": token} for partner, token in mine.items()},
        }
        events.append(
            {
                "event_type": IDENTITY_CREATED,
                "payload": payload,
                "created_at": now,
                "published_at": None,
                "remote_id": None,
                "attempts": 0,
                "last_error": None,
            }
        )
    store.insert_tokens(session, tokens)
    store.insert_events(session, events)
