"""Metadata types of data quality and grouping: groups, constants, legends, attributes, user
groups, validation rules (+ groups) and predictors, with their expression checks on import."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from services.sectoral_platform.metadata.schema_types import Prop, TypeSchema, type_schema
from services.sectoral_platform.validation.expression import (
    ExpressionError,
    constants,
    items,
    parse,
)

STRATEGIES = ("SKIP_IF_ANY_VALUE_MISSING", "SKIP_IF_ALL_VALUES_MISSING", "NEVER_SKIP")
# DHIS2's "Value `{0}` is not a valid for property `{1}`"
INVALID = "E4027"
Problem = tuple[str, str, str]
Referable = Callable[[str, str], bool]


def _expression(
    data: dict[str, Any], side: str, referable: Referable, *, aggregates: bool, required: bool
) -> list[Problem]:
    """One embedded expression (`leftSide`, `generator`, ...): it parses, its items exist."""
    holder = data.get(side)
    prop = f"{side}.expression"
    if holder is None and not required:
        return []
    text = holder.get("expression") if isinstance(holder, dict) else None
    if not isinstance(text, str) or not text.strip():
        return [("E4000", f"Missing required property `{prop}`.", side)]
    problems: list[Problem] = []
    strategy = holder.get("missingValueStrategy") if isinstance(holder, dict) else None
    if strategy is not None and strategy not in STRATEGIES:
        problems.append(
            (INVALID, f"Value `{strategy}` is not a valid for property `{side}."
                      "missingValueStrategy`", side)
        )  # fmt: skip
    try:
        tree = parse(text, aggregates=aggregates)
    except ExpressionError as exc:
        return [
            *problems,
            (INVALID, f"Expression `{text}` of `{prop}` is not valid: {exc} (token "
                      f"`{exc.token}`)", side),
        ]  # fmt: skip
    for de, coc in sorted(items(tree), key=str):
        if not referable("dataElements", de) or (
            coc is not None and not referable("categoryOptionCombos", coc)
        ):
            token = f"#{{{de}.{coc}}}" if coc else f"#{{{de}}}"
            problems.append(
                (INVALID, f"Expression `{text}` of `{prop}` is not valid: no such data element "
                          f"operand (token `{token}`)", side)
            )  # fmt: skip
    for uid in sorted(constants(tree)):
        if not referable("constants", uid):
            problems.append(
                (INVALID, f"Expression `{text}` of `{prop}` is not valid: no such constant "
                          f"(token `C{{{uid}}}`)", side)
            )  # fmt: skip
    return problems


def _counts(data: dict[str, Any], *names: str) -> list[Problem]:
    return [
        (INVALID, f"Value `{data[n]}` is not a valid for property `{n}`", n)
        for n in names
        if data.get(n) is not None and (not isinstance(data[n], int) or data[n] < 0)
    ]


def check_rule(data: dict[str, Any], referable: Referable) -> list[Problem]:
    levels = data.get("organisationUnitLevels")
    problems = [
        problem
        for side in ("leftSide", "rightSide")
        for problem in _expression(data, side, referable, aggregates=False, required=True)
    ]
    if levels is not None and not (
        isinstance(levels, list) and all(isinstance(n, int) and n > 0 for n in levels)
    ):
        problems.append(
            (INVALID, f"Value `{levels}` is not a valid for property `organisationUnitLevels`",
             "organisationUnitLevels")
        )  # fmt: skip
    return problems


def check_predictor(data: dict[str, Any], referable: Referable) -> list[Problem]:
    return [
        *_expression(data, "generator", referable, aggregates=True, required=True),
        *_expression(data, "sampleSkipTest", referable, aggregates=False, required=False),
        *_counts(data, "sequentialSampleCount", "annualSampleCount", "sequentialSkipCount"),
    ]


def check_constant(data: dict[str, Any], _referable: Referable) -> list[Problem]:
    value = data.get("value")
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return [(INVALID, f"Value `{value}` is not a valid for property `value`", "value")]
    return []


def check_legends(data: dict[str, Any], _referable: Referable) -> list[Problem]:
    for legend in data.get("legends") or []:
        bounds = (legend or {}).get("startValue"), (legend or {}).get("endValue")
        if not all(isinstance(b, (int, float)) for b in bounds) or bounds[0] >= bounds[1]:  # type: ignore[operator]
            return [(INVALID, f"Legend `{legend}` needs startValue < endValue", "legends")]
    return []


_APPLIES_TO = (
    "dataElementAttribute", "indicatorAttribute", "organisationUnitAttribute", "dataSetAttribute",
    "userAttribute", "programAttribute", "categoryOptionAttribute", "constantAttribute",
    "legendSetAttribute", "validationRuleAttribute", "predictorAttribute",
    "dataElementGroupAttribute", "indicatorGroupAttribute", "userGroupAttribute",
)  # fmt: skip

VALIDATION_SCHEMAS: tuple[TypeSchema, ...] = (
    type_schema(
        "constants", "constant", "constant.Constant",
        Prop("value", required=True),
        order=80, check=check_constant,
    ),
    type_schema(
        "legendSets", "legendSet", "legend.LegendSet",
        Prop("legends", default=[]),
        nameable=False, order=80, check=check_legends,
    ),
    type_schema(
        "attributes", "attribute", "attribute.Attribute",
        Prop("valueType", required=True),
        Prop("unique", default=False),
        Prop("mandatory", default=False),
        Prop("optionSet", "reference", "optionSets"),
        *(Prop(name, default=False) for name in _APPLIES_TO),
        order=80,
    ),
    type_schema(
        "dataElementGroups", "dataElementGroup", "dataelement.DataElementGroup",
        Prop("dataElements", "collection", "dataElements"),
        Prop(
            "groupSets", "inverse", "dataElementGroupSets",
            source=("dataElementGroupSets", "dataElementGroups"),
        ),
        order=81,
    ),
    type_schema(
        "dataElementGroupSets", "dataElementGroupSet", "dataelement.DataElementGroupSet",
        Prop("dataElementGroups", "collection", "dataElementGroups"),
        Prop("compulsory", default=False),
        Prop("dataDimension", default=True),
        order=82,
    ),
    type_schema(
        "indicatorGroups", "indicatorGroup", "indicator.IndicatorGroup",
        Prop("indicators", "collection", "indicators"),
        nameable=False, order=81,
    ),
    type_schema(
        "userGroups", "userGroup", "user.UserGroup",
        Prop("users", "collection", "users"),
        Prop("managedGroups", "collection", "userGroups"),
        nameable=False, order=83,
    ),
    type_schema(
        "validationRules", "validationRule", "validation.ValidationRule",
        Prop("leftSide", required=True),
        Prop("rightSide", required=True),
        Prop("operator", required=True),
        Prop("importance", default="MEDIUM"),
        Prop("periodType", required=True),
        Prop("organisationUnitLevels", default=[]),
        Prop("instruction"),
        Prop("skipFormValidation", default=False),
        Prop(
            "validationRuleGroups", "inverse", "validationRuleGroups",
            source=("validationRuleGroups", "validationRules"),
        ),
        order=85, check=check_rule,
    ),
    type_schema(
        "validationRuleGroups", "validationRuleGroup", "validation.ValidationRuleGroup",
        Prop("validationRules", "collection", "validationRules"),
        nameable=False, order=86,
    ),
    type_schema(
        "predictors", "predictor", "predictor.Predictor",
        Prop("output", "reference", "dataElements", required=True),
        Prop("outputCombo", "reference", "categoryOptionCombos"),
        Prop("generator", required=True),
        Prop("periodType", required=True),
        Prop("sequentialSampleCount", default=0),
        Prop("annualSampleCount", default=0),
        Prop("sequentialSkipCount", default=0),
        Prop("sampleSkipTest"),
        Prop("organisationUnitLevels", "collection", "organisationUnitLevels"),
        Prop("organisationUnitDescendants", default="DESCENDANTS"),
        order=87, check=check_predictor,
    ),
)  # fmt: skip
