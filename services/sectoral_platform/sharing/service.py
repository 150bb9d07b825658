"""Immunisation status of one person, found by the health sector's own token (PSUT)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Engine

from services.sectoral_platform.identity.service import TOKEN_ATTRIBUTE
from services.sectoral_platform.tracker.state import EV, TEAV

# Tracker data elements that record a vaccine dose (BOOLEAN / TRUE_ONLY: "true" = given).
VACCINES = {"bx6fsa0t90x": "BCG", "GQY2lXrypjO": "Measles"}


def immunisation_status(*, engine: Engine, token: str) -> dict[str, Any] | None:
    """Doses given, with dates and places; None when no record holds this token."""
    with engine.connect() as conn:
        holder = conn.execute(
            select(TEAV.c.te).where(TEAV.c.attribute == TOKEN_ATTRIBUTE, TEAV.c.value == token)
        ).first()
        if holder is None:
            return None
        events = conn.execute(
            select(EV.c.occurred_at, EV.c.org_unit, EV.c.data_values, EV.c.status)
            .where(EV.c.te == holder[0])
            .order_by(EV.c.occurred_at)
        ).all()
    doses: list[dict[str, Any]] = []
    for occurred, org_unit, values, status in events:
        if status not in ("ACTIVE", "COMPLETED") or occurred is None:
            continue
        for value in values:
            vaccine = VACCINES.get(value.get("dataElement"))
            if vaccine and value.get("value") == "true":
                doses.append({"vaccine": vaccine, "date": occurred[:10], "orgUnit": org_unit})
    counts = {name: sum(1 for d in doses if d["vaccine"] == name) for name in VACCINES.values()}
    return {"immunisations": doses, "doses": counts}
