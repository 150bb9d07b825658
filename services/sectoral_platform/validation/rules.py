"""Validation rule analysis: each rule's sides evaluated per org unit, period and attribute option
combo, compared by the rule's operator, with DHIS2's missing-value strategies."""

from __future__ import annotations

import operator
from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy.engine import Engine

from services.sectoral_platform.aggregate.periods import Period, contained_periods
from services.sectoral_platform.metadata.schema import DEFAULT_CATEGORY_OPTION_COMBO
from services.sectoral_platform.metadata.store import MetadataStore
from services.sectoral_platform.validation import cells as data
from services.sectoral_platform.validation.compiler import Compiled, compiled
from services.sectoral_platform.validation.expression import Lookup, Node, items, parse

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
    run: Compiled

    def value(self, present: Any, lookup: Lookup, constants: dict[str, float]) -> float | None:
        """None when the strategy skips the side (`present`: the items with a value);
        otherwise missing items count as zero."""
        if self.items:
            found = len(self.items & present)
            if self.strategy == "SKIP_IF_ANY_VALUE_MISSING" and found < len(self.items):
                return None
            if self.strategy == "SKIP_IF_ALL_VALUES_MISSING" and found == 0:
                return None
        return self.run(lookup, constants, [])


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
    return Side(tree, strategy, frozenset(items(tree)), compiled(tree))


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


COMPARE = {
    "equal_to": operator.eq, "not_equal_to": operator.ne, "greater_than": operator.gt,
    "greater_than_or_equal_to": operator.ge, "less_than": operator.lt,
    "less_than_or_equal_to": operator.le,
}  # fmt: skip


def _holds(left: float, op: str, right: float) -> bool:
    return bool(COMPARE[op](round(left, 10), round(right, 10)))


def is_violation(rule: Rule, left: float | None, right: float | None) -> bool:
    if rule.operator == "compulsory_pair":
        return (left is None) != (right is None)
    if rule.operator == "exclusive_pair":
        return left is not None and right is not None
    if left is None or right is None:
        return False
    return not _holds(left, rule.operator, right)


def _assigned_units(store: MetadataStore, within: set[str]) -> dict[str, set[str]]:
    """Data element -> the units among `within` it is collected at (through data sets)."""
    found: dict[str, set[str]] = defaultdict(set)
    for ds in store.all("dataSets"):
        units = {str(r.get("id")) for r in ds.get("organisationUnits") or [] if isinstance(r, dict)}
        units &= within
        for dse in ds.get("dataSetElements") or []:
            de = (dse.get("dataElement") or {}).get("id")
            if de:
                found[de] |= units
    return found


def _plan(
    store: MetadataStore, rules: list[Rule], units: list[tuple[str, str]], selected_only: bool
) -> dict[tuple[str, str], list[Rule]]:
    """(unit, path) -> the rules evaluated there: at the rule's levels, else where a data set
    collects one of its elements (form validation: at the selected unit)."""
    assigned = _assigned_units(store, {u for u, _ in units})
    plan: dict[tuple[str, str], list[Rule]] = defaultdict(list)
    for rule in rules:
        if rule.levels:
            chosen = [(u, p) for u, p in units if p.count("/") in rule.levels]
        else:
            at: set[str] = set().union(*(assigned.get(de, set()) for de in rule.elements))
            chosen = [(u, p) for u, p in units if u in at or selected_only]
        for place in chosen:
            plan[place].append(rule)
    return plan


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
    periods = contained_periods(start, end, {r.period_type for r in rules})
    plan = _plan(store, rules, units, selected_only)
    found = data.collect(
        engine, elements={de for r in rules for de in r.elements}, periods=periods,
        targets={p for _, p in plan}, within=store.path(root),
    )  # fmt: skip
    places = data.combos_by_place(found)
    constants = data.constant_values(store)
    empty: data.Values = {}
    violations: list[Violation] = []
    for (unit, path), here in plan.items():
        for period in periods:
            checked = [r for r in here if r.period_type == period.type]
            if not checked:
                continue
            for ao in places.get((path, period.id)) or [DEFAULT_CATEGORY_OPTION_COMBO]:
                if combo is not None and ao != combo:
                    continue
                values = found.get((path, period.id, ao), empty)
                get, present = values.get, values.keys()

                def lookup(de: str, co: str | None, get: Any = get) -> float | None:
                    value: float = get((de, co), 0.0)
                    return value

                for rule in checked:
                    left = rule.left.value(present, lookup, constants)
                    right = rule.right.value(present, lookup, constants)
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
