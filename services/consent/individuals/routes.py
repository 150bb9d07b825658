"""Individual paths: `/config/individual...` and `/service/individual...`."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel

from services.consent.deps import OrgDep, Page
from services.consent.individuals.models import IndividualEnvelope, IndividualPublic
from services.consent.individuals.service import (
    create_individual,
    get_individual,
    list_individuals,
    update_individual,
)
from services.consent.spec_route import SpecRoute
from services.kernel.db import SessionDep
from services.kernel.openapi import errors

router = APIRouter(tags=["config"], route_class=SpecRoute)
service_router = APIRouter(tags=["service"], route_class=SpecRoute)
PageDep = Annotated[Page, Depends()]


class IndividualOnly(BaseModel):
    individual: IndividualPublic


class IndividualList(BaseModel):
    individuals: list[IndividualPublic]


def _create(body: IndividualEnvelope, session: SessionDep) -> IndividualOnly:
    return IndividualOnly(individual=create_individual(session, data=body.individual).public())


def _read(individual_id: str, session: SessionDep) -> IndividualOnly:
    return IndividualOnly(individual=get_individual(session, individual_id=individual_id).public())


def _list(session: SessionDep, page: Page) -> IndividualList:
    found = list_individuals(session, offset=page.offset, limit=page.limit)
    return IndividualList(individuals=[i.public() for i in found])


@router.post(
    "/config/individual/",
    response_model=IndividualOnly,
    operation_id="configIndividualCreate",
    responses=errors(409),
)
def config_create(body: IndividualEnvelope, session: SessionDep, _: OrgDep) -> IndividualOnly:
    return _create(body, session)


@router.get(
    "/config/individual/{individualId}/",
    response_model=IndividualOnly,
    operation_id="configIndividualRead",
)
def config_read(individualId: str, session: SessionDep, _: OrgDep) -> IndividualOnly:
    return _read(individualId, session)


@router.get(
    "/config/individuals/", response_model=IndividualList, operation_id="configIndividualList"
)
def config_list(session: SessionDep, _: OrgDep, page: PageDep) -> IndividualList:
    return _list(session, page)


@service_router.post(
    "/service/individual/",
    response_model=IndividualOnly,
    operation_id="serviceIndividualCreate",
    responses=errors(409),
)
def service_create(body: IndividualEnvelope, session: SessionDep, _: OrgDep) -> IndividualOnly:
    return _create(body, session)


@service_router.get(
    "/service/individual/{individualId}/",
    response_model=IndividualOnly,
    operation_id="serviceIndividualRead",
)
def service_read(individualId: str, session: SessionDep, _: OrgDep) -> IndividualOnly:
    return _read(individualId, session)


@service_router.put(
    "/service/individual/{individualId}/",
    response_model=IndividualOnly,
    operation_id="serviceIndividualUpdate",
)
def service_update(
    individualId: str, body: IndividualEnvelope, session: SessionDep, _: OrgDep
) -> IndividualOnly:
    individual = update_individual(
        session, individual_id=individualId, data=body.individual, body_id=body.individual.id
    )
    return IndividualOnly(individual=individual.public())


@service_router.get(
    "/service/individuals/", response_model=IndividualList, operation_id="serviceIndividualList"
)
def service_list(session: SessionDep, _: OrgDep, page: PageDep) -> IndividualList:
    return _list(session, page)
