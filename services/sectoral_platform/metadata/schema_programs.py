"""Program metadata types beyond programs and stages: program indicators."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from services.sectoral_platform.dhis2.program_expression import ExpressionError, parse
from services.sectoral_platform.metadata.schema_types import Prop, TypeSchema, type_schema

ANALYTICS_TYPES = ("EVENT", "ENROLLMENT")
PI_AGGREGATIONS = ("SUM", "AVERAGE", "COUNT", "MIN", "MAX")


def _check_program_indicator(
    obj: dict[str, Any], _referable: Callable[[str, str], bool]
) -> list[tuple[str, str, str]]:
    """Expression and filter must parse (E4027, naming the token); types DHIS2 enumerates."""
    problems: list[tuple[str, str, str]] = []
    for prop in ("expression", "filter"):
        text = obj.get(prop)
        if prop == "filter" and text in (None, ""):
            continue
        try:
            parse(str(text or ""))
        except ExpressionError as exc:
            message = f"Value `{text}` is not a valid for property `{prop}`: {exc}"
            problems.append(("E4027", message, prop))
    analytics_type = obj.get("analyticsType", "EVENT")
    if analytics_type not in ANALYTICS_TYPES:
        message = f"Analytics type `{analytics_type}` is not one of {', '.join(ANALYTICS_TYPES)}"
        problems.append(("E4000", message, "analyticsType"))
    aggregation = obj.get("aggregationType", "AVERAGE")
    if aggregation not in PI_AGGREGATIONS:
        message = (
            f"Aggregation type `{aggregation}` of a program indicator is not implemented here "
            f"(supported: {', '.join(PI_AGGREGATIONS)})"
        )
        problems.append(("E2038", message, "aggregationType"))
    return problems


PROGRAM_SCHEMAS: tuple[TypeSchema, ...] = (
    replace(
        type_schema(
            "programIndicators", "programIndicator", "program.ProgramIndicator",
            Prop("shortName", required=True, unique=True),
            Prop("program", "reference", "programs", required=True),
            Prop("expression", required=True),
            Prop("filter"),
            Prop("analyticsType", default="EVENT"),
            Prop("aggregationType", default="AVERAGE"),
            Prop("decimals"),
            Prop("displayInForm", default=False),
            order=96,
        ),
        check=_check_program_indicator,
    ),
)  # fmt: skip
