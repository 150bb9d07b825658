"""The aggregation job: counts of tracker events per facility and month become data values.

Like DHIS2's program indicators pushed by an aggregate data exchange: only counts leave the
individual records; analytics then answers from the data values like any reported figure.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Engine

from services.sectoral_platform.aggregate.models import DataValue
from services.sectoral_platform.aggregate.service import import_data_values
from services.sectoral_platform.auth.scope import scope_of
from services.sectoral_platform.auth.service import CurrentUser
from services.sectoral_platform.base import table_of
from services.sectoral_platform.metadata.importer import run_import
from services.sectoral_platform.metadata.schema import DEFAULT_CATEGORY_OPTION_COMBO
from services.sectoral_platform.metadata.store import MetadataStore
from services.sectoral_platform.metadata.validation import ImportOptions
from services.sectoral_platform.seed.defaults import ADMIN_UID
from services.sectoral_platform.seed.loader import metadata_file
from services.sectoral_platform.tracker.meta import TrackerMeta
from services.sectoral_platform.tracker.state import EV

DV = table_of(DataValue)
COUNTED_STATUSES = ("ACTIVE", "COMPLETED")


@dataclass(frozen=True)
class Rule:
    """Count events of `stage` whose `element` has `value`, into aggregate `target`."""

    target: str
    stage: str
    element: str
    value: str = "true"


RULES = (
    Rule("ChBcgDoses1", "A03MvHHogjR", "bx6fsa0t90x"),
    Rule("ChMslDoses1", "ZzYYXq4fJie", "GQY2lXrypjO"),
)


def counts(engine: Engine, rule: Rule) -> Counter[tuple[str, str]]:
    """(org unit, monthly period) -> number of matching events."""
    found: Counter[tuple[str, str]] = Counter()
    query = select(EV.c.org_unit, EV.c.occurred_at, EV.c.data_values).where(
        EV.c.program_stage == rule.stage, EV.c.status.in_(COUNTED_STATUSES)
    )
    with engine.connect() as conn:
        for org_unit, occurred, values in conn.execute(query):
            if occurred and any(
                v.get("dataElement") == rule.element and v.get("value") == rule.value
                for v in values
            ):
                found[(org_unit, occurred[:4] + occurred[5:7])] += 1
    return found


def ensure_targets(store: MetadataStore) -> None:
    """The job declares its data set and data elements on its first run
    (`seed/tracker_counts.json`), assigned to the org units of the programs it reads, and keeps
    the assignment current."""
    payload = metadata_file("tracker_counts.json")
    units: list[dict[str, str]] = []
    for program in {
        stage.program for stage in (TrackerMeta(store).stage(r.stage) for r in RULES) if stage
    }:
        units += (store.get("programs", program) or {}).get("organisationUnits") or []
    [data_set] = payload["dataSets"]
    data_set["organisationUnits"] = [{"id": u["id"]} for u in units]
    current = store.get("dataSets", data_set["id"])
    missing = [e for e in payload["dataElements"] if store.get("dataElements", e["id"]) is None]
    if (
        current is not None
        and not missing
        and {u["id"] for u in current.get("organisationUnits") or []} == {u["id"] for u in units}
    ):
        return
    result = run_import(
        store, {"dataElements": missing, "dataSets": [data_set]}, ImportOptions(user=ADMIN_UID)
    )
    if result.has_errors:
        errors = [e["message"] for o in result.outcomes for e in o.errors][:3]
        raise RuntimeError(f"could not declare the aggregation targets: {errors}")


def aggregate(*, engine: Engine, store: MetadataStore) -> dict[str, Any]:
    """Recompute every rule's data values: new counts written, vanished ones deleted."""
    ensure_targets(store)
    admin = CurrentUser(ADMIN_UID, "admin", {"ALL"}, [], [])
    rows: list[dict[str, str]] = []
    for rule in RULES:
        if store.get("dataElements", rule.target) is None:
            continue
        fresh = counts(engine, rule)
        with engine.connect() as conn:
            stored = {
                (ou, pe): value
                for ou, pe, value in conn.execute(
                    select(DV.c.ou, DV.c.pe, DV.c.value).where(DV.c.de == rule.target)
                )
            }
        for (ou, pe), number in fresh.items():
            if stored.get((ou, pe)) != str(number):
                rows.append({"dataElement": rule.target, "orgUnit": ou, "period": pe,
                             "value": str(number)})  # fmt: skip
        for ou, pe in stored.keys() - fresh.keys():
            rows.append({"dataElement": rule.target, "orgUnit": ou, "period": pe, "value": ""})
    for row in rows:
        row["categoryOptionCombo"] = DEFAULT_CATEGORY_OPTION_COMBO
    if not rows:
        return {"status": "SUCCESS", "importCount": {"imported": 0, "updated": 0, "ignored": 0,
                                                     "deleted": 0}, "conflicts": []}  # fmt: skip
    summary = import_data_values(
        engine=engine, store=store, scope=scope_of(admin, store), body={"dataValues": rows}
    )
    return summary.to_json()
