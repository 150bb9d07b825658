"""Program indicators as `dx` items of `/api/analytics`: computed by event analytics."""

from __future__ import annotations

from sqlalchemy.engine import Engine

from services.sectoral_platform.aggregate.periods import Period
from services.sectoral_platform.event_analytics import indicators
from services.sectoral_platform.metadata.store import MetadataStore

KIND = "programIndicator"


def is_program_indicator(store: MetadataStore, uid: str) -> bool:
    return store.get("programIndicators", uid) is not None


def program_indicator_value(
    engine: Engine, store: MetadataStore, uid: str, periods: list[Period], units: list[str]
) -> tuple[float | None, int | None]:
    """The value and the indicator's decimals."""
    decimals = (store.get("programIndicators", uid) or {}).get("decimals")
    found = indicators.value(engine, store, uid, periods, units)
    return found, None if decimals is None else int(decimals)
