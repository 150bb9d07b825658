"""Predictors: a generator expression over the output period and sample periods, evaluated per
org unit at the predictor's levels, written as data values of the output element and combo."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy.engine import Engine

from services.sectoral_platform.aggregate.periods import (
    Period,
    contained_periods,
    period_of_type,
    shift,
)
from services.sectoral_platform.aggregate.service import import_data_values
from services.sectoral_platform.aggregate.summary import ImportOptions
from services.sectoral_platform.auth.scope import Scope
from services.sectoral_platform.metadata.schema import DEFAULT_CATEGORY_OPTION_COMBO
from services.sectoral_platform.metadata.store import MetadataStore
from services.sectoral_platform.validation import cells as data
from services.sectoral_platform.validation.compiler import evaluate
from services.sectoral_platform.validation.expression import Context, Lookup, Node, items, parse

INTEGER_TYPES = ("INTEGER", "INTEGER_POSITIVE", "INTEGER_NEGATIVE", "INTEGER_ZERO_OR_POSITIVE")


@dataclass(slots=True)
class PredictionSummary:
    """DHIS2's PredictionSummary."""

    predictors: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted: int = 0

    @property
    def predictions(self) -> int:
        return self.inserted + self.updated + self.unchanged

    def to_json(self) -> dict[str, Any]:
        return {
            "responseType": "PredictionSummary",
            "status": "SUCCESS",
            "predictors": self.predictors,
            "inserted": self.inserted,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "deleted": self.deleted,
        }


def sample_periods(predictor: dict[str, Any], output: Period) -> list[Period]:
    """The sequential samples before the output period (less the skipped most recent ones), and
    for each sampled year the same period then with the sequential count either side."""
    count = int(predictor.get("sequentialSampleCount") or 0)
    skip = int(predictor.get("sequentialSkipCount") or 0)
    years = int(predictor.get("annualSampleCount") or 0)
    found = [shift(output, -k) for k in range(skip + 1, count + 1)]
    for year in range(1, years + 1):
        day = output.start.replace(day=min(output.start.day, 28))  # 29 February
        then = period_of_type(output.type, day.replace(year=day.year - year))
        found += [shift(then, k) for k in range(-count, count + 1)]
    return found


def _levels(store: MetadataStore, predictor: dict[str, Any]) -> set[int]:
    levels = {
        int(level["level"])
        for ref in predictor.get("organisationUnitLevels") or []
        if (level := store.get("organisationUnitLevels", ref.get("id"))) is not None
    }
    if levels:
        return levels
    deepest = max((p.count("/") for p in store.indexes.paths.values()), default=1)
    return {deepest}


def _format(value: float, value_type: str) -> str:
    if value_type in INTEGER_TYPES:
        return str(round(value))
    return f"{round(value, 4):.4f}".rstrip("0").rstrip(".")


def predict(
    store: MetadataStore, engine: Engine, predictor: dict[str, Any], start: date, end: date
) -> list[dict[str, Any]]:
    """The data values one predictor predicts for the output periods within [start, end]."""
    generator = predictor.get("generator") or {}
    tree = parse(str(generator.get("expression") or ""), aggregates=True)
    strategy = generator.get("missingValueStrategy") or "SKIP_IF_ALL_VALUES_MISSING"
    skip_raw = (predictor.get("sampleSkipTest") or {}).get("expression")
    skip_tree: Node | None = parse(str(skip_raw)) if skip_raw else None
    outputs = contained_periods(start, end, {predictor["periodType"]})
    samples = {o.id: sample_periods(predictor, o) for o in outputs}
    everything = {p.id: p for p in outputs} | {s.id: s for v in samples.values() for s in v}
    levels = _levels(store, predictor)
    targets = {p for p in store.indexes.paths.values() if p.count("/") in levels}
    by_path = {p: u for u, p in store.indexes.paths.items()}
    elements = {de for de, _ in items(tree)}
    if skip_tree is not None:
        elements |= {de for de, _ in items(skip_tree)}
    found = data.collect(
        engine, elements=elements, periods=list(everything.values()), targets=targets,
        within=None, descendants=predictor.get("organisationUnitDescendants") != "SELECTED",
    )  # fmt: skip
    constants = data.constant_values(store)
    output_de = predictor["output"]["id"]
    combo = (predictor.get("outputCombo") or {}).get("id") or DEFAULT_CATEGORY_OPTION_COMBO
    value_type = (store.get("dataElements", output_de) or {}).get("valueType") or "NUMBER"
    wanted = frozenset(items(tree))
    places: dict[tuple[str, str], set[str]] = {}
    for path, pid, ao in found:
        places.setdefault((path, pid), set()).add(ao)
    empty: data.Values = {}

    def lookup(path: str, pid: str, ao: str) -> Lookup:
        values = found.get((path, pid, ao), empty)
        return lambda de, co: values.get((de, co))

    predicted: list[dict[str, Any]] = []
    for output in outputs:
        for path in sorted(targets):
            aos: set[str] = set()
            for period_id in [output.id, *(s.id for s in samples[output.id])]:
                aos |= places.get((path, period_id), set())
            if not aos and not wanted:
                aos = {DEFAULT_CATEGORY_OPTION_COMBO}
            for ao in sorted(aos):
                kept = [
                    s for s in samples[output.id]
                    if skip_tree is None or not evaluate(
                        skip_tree, Context(current=lookup(path, s.id, ao), constants=constants)
                    )
                ]  # fmt: skip
                current = found.get((path, output.id, ao), empty)
                seen = [
                    item in current or any(item in found.get((path, s.id, ao), empty) for s in kept)
                    for item in wanted
                ]
                if wanted and (
                    (strategy == "SKIP_IF_ANY_VALUE_MISSING" and not all(seen))
                    or (strategy == "SKIP_IF_ALL_VALUES_MISSING" and not any(seen))
                ):
                    continue
                ctx = Context(
                    current=lookup(path, output.id, ao),
                    constants=constants,
                    samples=[lookup(path, s.id, ao) for s in kept],
                )
                value = evaluate(tree, ctx)
                if value is None:
                    continue
                predicted.append({
                    "dataElement": output_de, "period": output.id, "orgUnit": by_path[path],
                    "categoryOptionCombo": combo, "attributeOptionCombo": ao,
                    "value": _format(value, value_type),
                })  # fmt: skip
    return predicted


def run(
    *,
    engine: Engine,
    store: MetadataStore,
    scope: Scope,
    predictors: list[dict[str, Any]],
    start: date,
    end: date,
) -> PredictionSummary:
    summary = PredictionSummary()
    for predictor in sorted(predictors, key=lambda p: str(p.get("name") or "")):
        values = predict(store, engine, predictor, start, end)
        summary.predictors += 1
        before = data.stored(engine, predictor["output"]["id"], (v["period"] for v in values))
        changed = [
            v for v in values
            if before.get((v["period"], v["orgUnit"], v["categoryOptionCombo"],
                           v["attributeOptionCombo"])) != v["value"]
        ]  # fmt: skip
        summary.unchanged += len(values) - len(changed)
        values = changed
        if not values:
            continue
        result = import_data_values(
            engine=engine, store=store, scope=scope, body={"dataValues": values},
            options=ImportOptions(),
        )  # fmt: skip
        summary.inserted += result.count.imported
        summary.updated += result.count.updated
    return summary
