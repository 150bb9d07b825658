"""Policy CRUD with revisions."""

from __future__ import annotations

from sqlmodel import Session, col, select

from services.consent.agreements.models import DataAgreement
from services.consent.ids import check_id, new_id
from services.consent.policies.models import Policy, PolicyBase
from services.consent.revisions.models import Revision
from services.consent.revisions.service import create_revision, get_revision, latest_revision
from services.kernel.errors import BadRequest, Conflict, NotFound
from services.kernel.time import utcnow

SCHEMA = "policy"
ORG = "organisation"


def get_policy(session: Session, *, policy_id: str) -> Policy:
    policy = session.get(Policy, check_id(policy_id, "policyId"))
    if policy is None or policy.deleted:
        raise NotFound(f"No policy {policy_id}.", code="policy-not-found")
    return policy


def _revise(session: Session, policy: Policy) -> Revision:
    return create_revision(
        session,
        schema_name=SCHEMA,
        object_id=policy.id,
        object_data=policy.public().model_dump(),
        authorized_by_other=ORG,
    )


def create_policy(
    session: Session, *, data: PolicyBase, policy_id: str | None = None
) -> tuple[Policy, Revision]:
    policy = Policy(id=policy_id or new_id(), created_at=utcnow(), name="", version="", url="")
    policy.apply(data)
    session.add(policy)
    session.flush()
    revision = _revise(session, policy)
    session.commit()
    return policy, revision


def update_policy(session: Session, *, policy_id: str, data: PolicyBase) -> tuple[Policy, Revision]:
    policy = get_policy(session, policy_id=policy_id)
    policy.apply(data)
    session.add(policy)
    revision = _revise(session, policy)
    session.commit()
    return policy, revision


def delete_policy(session: Session, *, policy_id: str) -> Revision:
    policy = get_policy(session, policy_id=policy_id)
    in_use = session.exec(
        select(DataAgreement.id).where(
            DataAgreement.policy_id == policy.id,
            col(DataAgreement.deleted).is_(False),
            col(DataAgreement.active).is_(True),
        )
    ).first()
    if in_use is not None:
        raise Conflict(
            f"Policy {policy_id} governs active data agreement {in_use}; it cannot be deleted.",
            code="policy-in-use",
        )
    policy.deleted = True
    session.add(policy)
    revision = create_revision(
        session,
        schema_name=SCHEMA,
        object_id=policy.id,
        object_data={**policy.public().model_dump(), "deleted": True},
        authorized_by_other=ORG,
    )
    session.commit()
    return revision


def policy_revision(session: Session, *, policy: Policy, revision_id: str | None) -> Revision:
    """The requested revision of a policy, or its latest."""
    if revision_id is not None:
        revision = get_revision(session, revision_id=check_id(revision_id, "revisionId"))
        if revision.object_id != policy.id:
            raise BadRequest(
                f"Revision {revision_id} is not a revision of policy {policy.id}.",
                code="revision-mismatch",
            )
        return revision
    latest = latest_revision(session, object_id=policy.id)
    if latest is None:  # pragma: no cover - every policy is created with a revision
        raise NotFound(f"Policy {policy.id} has no revision.", code="revision-not-found")
    return latest


def list_policies(session: Session, *, offset: int, limit: int) -> list[Policy]:
    statement = (
        select(Policy)
        .where(col(Policy.deleted).is_(False))
        .order_by(col(Policy.created_at), col(Policy.id))
        .offset(offset)
        .limit(limit)
    )
    return list(session.exec(statement))
