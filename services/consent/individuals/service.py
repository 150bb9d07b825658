"""Individuals: create, read, update, list, and resolve the `X-ConsentBB-IndividualId` header."""

from __future__ import annotations

import uuid

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from services.consent.ids import check_id, new_id
from services.consent.individuals.models import Individual, IndividualBase
from services.consent.records.models import ConsentRecord
from services.kernel.errors import BadRequest, Conflict, NotFound
from services.kernel.time import utcnow

DEFAULT_EXTERNAL_ID_TYPE = "psut:dpa-consent"
DEFAULT_IDENTITY_PROVIDER = "DPI/GOV/NIA/id-registry"


def get_individual(session: Session, *, individual_id: str) -> Individual:
    individual = session.get(Individual, check_id(individual_id, "individualId"))
    if individual is None:
        raise NotFound(f"No individual {individual_id}.", code="individual-not-found")
    return individual


def find_individual(session: Session, *, reference: str) -> Individual | None:
    """By the service's id when the reference is one, else by external id (the person's token)."""
    try:
        as_id = str(uuid.UUID(reference))
    except ValueError:
        as_id = None
    if as_id is not None:
        found = session.get(Individual, as_id)
        if found is not None:
            return found
    return session.exec(select(Individual).where(Individual.external_id == reference)).first()


def resolve_individual(session: Session, *, reference: str) -> Individual:
    individual = find_individual(session, reference=reference)
    if individual is None:
        raise NotFound(
            f"No individual {reference!r}; register it with POST /service/individual/ first.",
            code="individual-not-found",
        )
    return individual


def _check_external_id(session: Session, external_id: str | None, own_id: str | None) -> None:
    if external_id is None:
        return
    clash = session.exec(select(Individual).where(Individual.external_id == external_id)).first()
    if clash is not None and clash.id != own_id:
        raise Conflict(
            f"An individual with this externalId already exists: {clash.id}.",
            code="individual-exists",
        )


def create_individual(session: Session, *, data: IndividualBase) -> Individual:
    _check_external_id(session, data.externalId, None)
    individual = Individual(
        id=new_id(),
        external_id=data.externalId,
        external_id_type=data.externalIdType
        or (DEFAULT_EXTERNAL_ID_TYPE if data.externalId else None),
        identity_provider_id=data.identityProviderId
        or (DEFAULT_IDENTITY_PROVIDER if data.externalId else None),
        created_at=utcnow(),
    )
    session.add(individual)
    _flush_unless_taken(session, data.externalId, individual.id)
    session.commit()
    return individual


def _flush_unless_taken(session: Session, external_id: str | None, own_id: str) -> None:
    """Write; another replica's individual with the same externalId since the check is the same
    409 as before it (the column is unique: it was a 500)."""
    try:
        session.flush()
    except IntegrityError:
        session.rollback()
        _check_external_id(session, external_id, own_id)
        raise


def update_individual(
    session: Session, *, individual_id: str, data: IndividualBase, body_id: str | None
) -> Individual:
    individual = get_individual(session, individual_id=individual_id)
    if body_id is not None and body_id != individual.id:
        raise BadRequest("individual.id does not match the path.", code="id-mismatch")
    _check_external_id(session, data.externalId, individual.id)
    individual.external_id = data.externalId
    individual.external_id_type = data.externalIdType
    individual.identity_provider_id = data.identityProviderId
    session.add(individual)
    _flush_unless_taken(session, data.externalId, individual.id)
    # Decisions look records up by the subject copied onto them: keep it in step.
    session.execute(
        update(ConsentRecord)
        .where(col(ConsentRecord.individual_id) == individual.id)
        .values(subject=individual.subject)
    )
    session.commit()
    return individual


def list_individuals(session: Session, *, offset: int, limit: int) -> list[Individual]:
    statement = (
        select(Individual)
        .order_by(col(Individual.created_at), col(Individual.id))
        .offset(offset)
        .limit(limit)
    )
    return list(session.exec(statement))
