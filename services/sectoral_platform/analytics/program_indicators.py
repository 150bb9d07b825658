"""Program indicators as `dx` items of `/api/analytics`: computed by event analytics."""

from __future__ import annotations

from sqlalchemy.engine import Engine

from services.sectoral_platform.aggregate.periods import Period
from services.sectoral_platform.analytics.items import DataItem
from services.sectoral_platform.analytics.reporting import Answers
from services.sectoral_platform.event_analytics import indicators
from services.sectoral_platform.metadata.store import MetadataStore

KIND = "programIndicator"


def parse_program_indicator(store: MetadataStore, item: str) -> DataItem | None:
    if "." in item or store.get("programIndicators", item) is None:
        return None
    return DataItem(item, KIND)


def program_indicator_values(
    engine: Engine,
    store: MetadataStore,
    items: list[DataItem],
    pe_groups: list[list[Period]],
    ou_groups: list[list[str]],
) -> Answers:
    """Each indicator's value per (period group, unit group), from the events."""
    answers: Answers = {}
    for item in items:
        for i, periods in enumerate(pe_groups):
            for j, units in enumerate(ou_groups):
                found = indicators.value(engine, store, item.id, periods, units)
                if found is not None:
                    answers[(item.id, i, j)] = (found, None, None)
    return answers
