"""Policy paths of the Consent BB API (`/config/policy...`, `/service/policy/...`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel

from services.consent.deps import OrgDep, Page
from services.consent.policies.models import PolicyEnvelope, PolicyPublic
from services.consent.policies.service import (
    create_policy,
    delete_policy,
    get_policy,
    list_policies,
    policy_revision,
    update_policy,
)
from services.consent.revisions.models import RevisionPublic
from services.consent.revisions.service import public_chain, revision_chain
from services.consent.spec_route import SpecRoute
from services.consent.unimplemented import UnimplementedQuery
from services.kernel.db import SessionDep

router = APIRouter(tags=["config"], route_class=SpecRoute)
service_router = APIRouter(tags=["service"], route_class=SpecRoute)


class PolicyWithRevision(BaseModel):
    policy: PolicyPublic
    revision: RevisionPublic


class RevisionOnly(BaseModel):
    revision: RevisionPublic


class PolicyRevisions(BaseModel):
    policy: PolicyPublic
    revisions: list[RevisionPublic]


class PolicyList(BaseModel):
    policies: list[PolicyPublic]


RevisionIdQuery = Annotated[str | None, Query(description="An object with id revisionId")]


@router.post(
    "/config/policy/", response_model=PolicyWithRevision, operation_id="configPolicyCreate"
)
def post_policy(body: PolicyEnvelope, session: SessionDep, _: OrgDep) -> PolicyWithRevision:
    policy, revision = create_policy(session, data=body.policy)
    return PolicyWithRevision(policy=policy.public(), revision=revision.public())


@router.get(
    "/config/policy/{policyId}/", response_model=PolicyWithRevision, operation_id="configPolicyRead"
)
def read_policy(
    policyId: str, session: SessionDep, _: OrgDep, revisionId: RevisionIdQuery = None
) -> PolicyWithRevision:
    policy = get_policy(session, policy_id=policyId)
    revision = policy_revision(session, policy=policy, revision_id=revisionId)
    return PolicyWithRevision(policy=policy.public(), revision=revision.public())


@router.put(
    "/config/policy/{policyId}/",
    response_model=PolicyWithRevision,
    operation_id="configPolicyUpdate",
)
def put_policy(
    policyId: str, body: PolicyEnvelope, session: SessionDep, _: OrgDep
) -> PolicyWithRevision:
    policy, revision = update_policy(session, policy_id=policyId, data=body.policy)
    return PolicyWithRevision(policy=policy.public(), revision=revision.public())


@router.delete(
    "/config/policy/{policyId}/", response_model=RevisionOnly, operation_id="configPolicyDelete"
)
def remove_policy(policyId: str, session: SessionDep, _: OrgDep) -> RevisionOnly:
    return RevisionOnly(revision=delete_policy(session, policy_id=policyId).public())


@router.get(
    "/config/policy/{policyId}/revisions/",
    response_model=PolicyRevisions,
    operation_id="configPolicyRevisionsList",
)
def policy_revisions(
    policyId: str, session: SessionDep, _: OrgDep, page: Annotated[Page, Depends()]
) -> PolicyRevisions:
    policy = get_policy(session, policy_id=policyId)
    chain = public_chain(revision_chain(session, object_id=policy.id))
    revisions = chain[page.offset : page.offset + page.limit]
    return PolicyRevisions(policy=policy.public(), revisions=revisions)


@router.get("/config/policies/", response_model=PolicyList, operation_id="configPolicyList")
def all_policies(
    session: SessionDep,
    _: OrgDep,
    page: Annotated[Page, Depends()],
    revisionId: UnimplementedQuery = None,  # the spec's list filter; one revision per policy read
) -> PolicyList:
    found = list_policies(session, offset=page.offset, limit=page.limit)
    return PolicyList(policies=[p.public() for p in found])


@service_router.get(
    "/service/policy/{policyId}/",
    response_model=PolicyWithRevision,
    operation_id="servicePolicyRead",
)
def service_read_policy(
    policyId: str, session: SessionDep, _: OrgDep, revisionId: RevisionIdQuery = None
) -> PolicyWithRevision:
    return read_policy(policyId, session, None, revisionId)
