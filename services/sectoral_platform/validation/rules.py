"""Validation rule analysis: each rule's sides evaluated per org unit, period and attribute option
combo, compared by the rule's operator, with DHIS2's missing-value strategies."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy.engine import Engine

from services.sectoral_platform.aggregate.periods import Period, contained_periods
from services.sectoral_platform.metadata.schema import DEFAULT_CATEGORY_OPTION_COMBO
from services.sectoral_platform.metadata.store import MetadataStore
from services.sectoral_platform.validation import cells as data
from services.sectoral_platform.validation.expression import Context, Node, evaluate, items, parse

MAX_RESULTS = 500  # DHIS2's cap on an interactive validation-rule analysis
SYMBOLS = {
    "equal_to": "==", "not_equal_to": "!=", "greater_than": ">",
    "greater_than_or_equal_to": ">=", "less_than": "<", "less_than_or_equal_to": "<=",
    "compulsory_pair": "[Compulsory pair]", "exclusive_pair": "[Exclusive pair]",
}  # fmt: skip
IMPORTANCE_ORDER = {"HIGH": 0, "MEDIUM": 1, "LOW": 2}


@dataclass(frozen=True, slots=True)
class Side:
    tree: Node
    strategy: str
    items: frozenset[tuple[str, str | None]]

    def value(self, values: data.Values, constants: dict[str, float]) -> float | None:
        """None when the strategy skips the side; otherwise missing items count as zero."""
        present = sum(1 for item in self.items if item in values)
        if self.items:
            if self.strategy == "SKIP_IF_ANY_VALUE_MISSING" and present < len(self.items):
                return None
            if self.strategy == "SKIP_IF_ALL_VALUES_MISSING" and present == 0:
                return None
        ctx = Context(current=lambda de, co: values.get((de, co), 0.0), constants=constants)
        return evaluate(self.tree, ctx)


@dataclass(frozen=True, slots=True)
class Rule:
    uid: str
    obj: dict[str, Any]
    operator: str
    period_type: str
    levels: frozenset[int]
    left: Side
    right: Side

    @property
    def elements(self) -> set[str]:
        return {de for de, _ in self.left.items | self.right.items}


@dataclass(frozen=True, slots=True)
class Violation:
    rule: Rule
    unit: str
    path: str
    period: Period
    combo: str
    left: float | None
    right: float | None


def _side(raw: dict[str, Any]) -> Side:
    tree = parse(str(raw.get("expression") or ""))
    strategy = raw.get("missingValueStrategy") or "SKIP_IF_ALL_VALUES_MISSING"
    return Side(tree, strategy, frozenset(items(tree)))


def compile_rule(obj: dict[str, Any]) -> Rule:
    return Rule(
        uid=obj["id"],
        obj=obj,
        operator=obj["operator"],
        period_type=obj.get("periodType") or "Monthly",
        levels=frozenset(obj.get("organisationUnitLevels") or ()),
        left=_side(obj.get("leftSide") or {}),
        right=_side(obj.get("rightSide") or {}),
    )


def _holds(left: float, operator: str, right: float) -> bool:
    left, right = round(left, 10), round(right, 10)
    return {
        "equal_to": left == right, "not_equal_to": left != right, "greater_than": left > right,
        "greater_than_or_equal_to": left >= right, "less_than": left < right,
        "less_than_or_equal_to": left <= right,
    }[operator]  # fmt: skip


def is_violation(rule: Rule, left: float | None, right: float | None) -> bool:
    if rule.operator == "compulsory_pair":
        return (left is None) != (right is None)
    if rule.operator == "exclusive_pair":
        return left is not None and right is not None
    if left is None or right is None:
        return False
    return not _holds(left, rule.operator, right)


def _assigned_units(store: MetadataStore) -> dict[str, set[str]]:
    """Data element -> org units it is collected at (through data sets)."""
    found: dict[str, set[str]] = defaultdict(set)
    for ds in store.all("dataSets"):
        units = {ref["id"] for ref in ds.get("organisationUnits") or [] if isinstance(ref, dict)}
        for dse in ds.get("dataSetElements") or []:
            de = (dse.get("dataElement") or {}).get("id")
            if de:
                found[de] |= units
    return found


def analyse(
    *,
    engine: Engine,
    store: MetadataStore,
    rules: list[Rule],
    root: str,
    start: date,
    end: date,
    selected_only: bool = False,
    combo: str | None = None,
) -> list[Violation]:
    """Every violation of the rules at `root` (and, unless `selected_only`, below it)."""
    units = data.subtree(store, root)
    if selected_only:
        units = [(u, p) for u, p in units if u == root]
    assigned = _assigned_units(store)
    periods = contained_periods(start, end, {r.period_type for r in rules})
    by_type: dict[str, list[Period]] = defaultdict(list)
    for period in periods:
        by_type[period.type].append(period)
    where: dict[str, list[tuple[str, str]]] = {}
    for rule in rules:
        if rule.levels:
            where[rule.uid] = [(u, p) for u, p in units if p.count("/") in rule.levels]
        else:
            at = set().union(*(assigned.get(de, set()) for de in rule.elements))
            where[rule.uid] = [(u, p) for u, p in units if u in at or selected_only]
    targets = {p for chosen in where.values() for _, p in chosen}
    top = store.path(root)
    found = data.collect(
        engine, elements={de for r in rules for de in r.elements}, periods=periods,
        targets=targets, within=top,
    )  # fmt: skip
    places = data.combos_by_place(found)
    constants = data.constant_values(store)
    empty: data.Values = {}
    violations: list[Violation] = []
    for rule in rules:
        for unit, path in where[rule.uid]:
            for period in by_type[rule.period_type]:
                combos = places.get((path, period.id)) or [DEFAULT_CATEGORY_OPTION_COMBO]
                for ao in combos:
                    if combo is not None and ao != combo:
                        continue
                    values = found.get((path, period.id, ao), empty)
                    left = rule.left.value(values, constants)
                    right = rule.right.value(values, constants)
                    if is_violation(rule, left, right):
                        violations.append(Violation(rule, unit, path, period, ao, left, right))
    violations.sort(
        key=lambda v: (
            v.path, v.period.start, v.period.type,
            IMPORTANCE_ORDER.get(v.rule.obj.get("importance") or "MEDIUM", 1),
            v.rule.obj.get("name") or "", v.combo,
        )
    )  # fmt: skip
    return violations


def rules_for(store: MetadataStore, group: str | None) -> list[Rule] | None:
    """The rules of a group (None if no such group), or every rule."""
    if group is None:
        objs = store.all("validationRules")
    else:
        found = store.get("validationRuleGroups", group)
        if found is None:
            return None
        ids = [ref.get("id") for ref in found.get("validationRules") or []]
        objs = [o for uid in ids if (o := store.get("validationRules", uid)) is not None]
    return [compile_rule(o) for o in objs]


def rules_for_data_set(store: MetadataStore, data_set: dict[str, Any]) -> list[Rule]:
    """Form validation rules of a data set: its period type, sharing one of its elements."""
    elements = {
        (dse.get("dataElement") or {}).get("id") for dse in data_set.get("dataSetElements") or []
    }
    rules = [
        compile_rule(o)
        for o in store.all("validationRules")
        if not o.get("skipFormValidation") and o.get("periodType") == data_set.get("periodType")
    ]
    return [r for r in rules if r.elements & elements]
