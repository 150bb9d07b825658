"""Admin API of pub/sub: inspect deliveries (dead letters included) and redeliver on demand."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import Field

from services.interop_layer.api_model import CamelModel
from services.interop_layer.errors import BadRequest
from services.interop_layer.pubsub import events
from services.interop_layer.pubsub.models import DeliveryPublic
from services.interop_layer.runtime import RuntimeDep
from services.kernel.credentials import AdminDep
from services.kernel.db import SessionDep

router = APIRouter(prefix="/admin/pubsub", tags=["pub/sub (admin)"])


@router.get("/deliveries", summary="Deliveries by state (e.g. `dead`) or subscription")
def list_deliveries(
    session: SessionDep,
    _: AdminDep,
    state: str | None = None,
    subscription_id: Annotated[str | None, Query(alias="subscriptionId")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[DeliveryPublic]:
    found = events.list_deliveries(
        session=session, state=state, subscription_id=subscription_id, limit=limit
    )
    return [events.public_delivery(d) for d in found]


class RedeliverRequest(CamelModel):
    delivery_ids: list[int] | None = None
    subscription_id: str | None = None
    confirm_all: bool = Field(default=False, description="required when nothing else narrows")


@router.post("/redeliver", summary="Queue dead-lettered (or past) deliveries again")
def redeliver(
    runtime: RuntimeDep, session: SessionDep, _: AdminDep, data: RedeliverRequest
) -> dict[str, int]:
    if data.delivery_ids is None and data.subscription_id is None and not data.confirm_all:
        raise BadRequest("Name deliveryIds or a subscriptionId (or set confirmAll).")
    count = events.redeliver(
        session=session, delivery_ids=data.delivery_ids, subscription_id=data.subscription_id
    )
    runtime.dispatcher.notify()
    return {"requeued": count}
