"""Tracker metadata types: relationship types and program rules (with their variables and
actions), each with the import checks DHIS2 makes and the refusal of what is not evaluated."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from services.sectoral_platform.dhis2.rule_expr import ExpressionError, parse
from services.sectoral_platform.metadata.schema_types import Check, Prop, TypeSchema, type_schema

Obj = dict[str, Any]
Referable = Callable[[str, str], bool]
Problems = list[tuple[str, str, str]]

RELATIONSHIP_ENTITIES = {
    "TRACKED_ENTITY_INSTANCE": "trackedEntityType",
    "PROGRAM_INSTANCE": "program",
    "PROGRAM_STAGE_INSTANCE": "programStage",
}
_TARGETS = {"trackedEntityType": "trackedEntityTypes", "program": "programs",
            "programStage": "programStages"}  # fmt: skip
# Program rule variable sources the import evaluates; the others are refused (E4027).
VARIABLE_SOURCES = ("DATAELEMENT_CURRENT_EVENT", "TEI_ATTRIBUTE", "CALCULATED_VALUE")
ALL_VARIABLE_SOURCES = (
    *VARIABLE_SOURCES, "DATAELEMENT_NEWEST_EVENT_PROGRAM_STAGE", "DATAELEMENT_NEWEST_EVENT_PROGRAM",
    "DATAELEMENT_PREVIOUS_EVENT",
)  # fmt: skip
# Actions DHIS2 applies on import and the platform evaluates.
EVALUATED_ACTIONS = ("ASSIGN", "SHOWERROR", "SHOWWARNING", "ERRORONCOMPLETE", "WARNINGONCOMPLETE")
# Actions only the capture apps apply: DHIS2's import ignores them, so does the platform.
CLIENT_ACTIONS = (
    "DISPLAYTEXT", "DISPLAYKEYVALUEPAIR", "HIDEFIELD", "HIDESECTION", "HIDEPROGRAMSTAGE",
    "HIDEOPTION", "SHOWOPTIONGROUP", "HIDEOPTIONGROUP",
)  # fmt: skip
# Server-side effects DHIS2 has on import that the platform does not implement: refused.
REFUSED_ACTIONS = ("SETMANDATORYFIELD", "SENDMESSAGE", "SCHEDULEMESSAGE", "CREATEEVENT",
                   "SCHEDULEEVENT")  # fmt: skip
FORBIDDEN_NAME_WORDS = ("and", "or", "not")


def _id(value: Any) -> Any:
    return value.get("id") if isinstance(value, dict) else value


def _constraints(data: Obj, referable: Referable) -> Problems:
    problems: Problems = []
    for side in ("fromConstraint", "toConstraint"):
        constraint = data.get(side)
        if constraint is None:
            continue  # the required-property check reports it (E4000)
        if not isinstance(constraint, dict):
            problems.append(
                ("E4027", f"Value `{constraint}` is not a valid for property `{side}`", side)
            )
            continue
        entity = constraint.get("relationshipEntity")
        needed = RELATIONSHIP_ENTITIES.get(str(entity))
        if needed is None:
            problems.append(
                (
                    "E4027",
                    f"Value `{entity}` is not a valid for property `relationshipEntity`",
                    side,
                )
            )
            continue
        if entity == "PROGRAM_STAGE_INSTANCE" and constraint.get("programStage") is None:
            needed = "program"  # an event constraint names its stage, or an event program
        target = _id(constraint.get(needed))
        if target is None:
            problems.append(
                ("E4024", f"Property `{needed}` must be set when property `relationshipEntity` "
                 f"is `{entity}`. ", side)
            )  # fmt: skip
        elif not isinstance(target, str) or not referable(_TARGETS[needed], target):
            problems.append(
                ("E5002", f"Invalid reference [{target}] on object {data.get('id')} for "
                 f"association `{side}`.", side)
            )  # fmt: skip
    return problems


def _expression(prop: str, text: Any) -> Problems:
    try:
        parse(text)
    except ExpressionError as exc:
        return [("E4027", f"Value `{exc.token}` is not a valid for property `{prop}`: {exc}", prop)]
    return []


def _rule(data: Obj, referable: Referable) -> Problems:
    return _expression("condition", data.get("condition")) if data.get("condition") else []


def _variable(data: Obj, referable: Referable) -> Problems:
    problems: Problems = []
    name = str(data.get("name") or "")
    if any(word in FORBIDDEN_NAME_WORDS for word in name.lower().split()):
        problems.append(
            ("E4052", f"For program rule variable with name `{name}` following keywords are "
             "forbidden : and , or , not", "name")
        )  # fmt: skip
    source = data.get("programRuleVariableSourceType")
    if source not in VARIABLE_SOURCES:
        problems.append(
            ("E4027", f"Value `{source}` is not a valid for property "
             f"`programRuleVariableSourceType` (evaluated: {', '.join(VARIABLE_SOURCES)})",
             "programRuleVariableSourceType")
        )  # fmt: skip
    elif source == "TEI_ATTRIBUTE" and data.get("trackedEntityAttribute") is None:
        problems.append(("E4000", "Missing required property `trackedEntityAttribute`.",
                         "trackedEntityAttribute"))  # fmt: skip
    elif source == "DATAELEMENT_CURRENT_EVENT" and data.get("dataElement") is None:
        problems.append(("E4000", "Missing required property `dataElement`.", "dataElement"))
    return problems


def _action(data: Obj, referable: Referable) -> Problems:
    kind = data.get("programRuleActionType")
    rule = _id(data.get("programRule"))
    if kind in CLIENT_ACTIONS:
        return []
    if kind not in EVALUATED_ACTIONS:
        return [
            ("E4033", f"A program rule action of type `{kind}` associated with program rule "
             f"name `{rule}` is invalid (not evaluated by this server)", "programRuleActionType")
        ]  # fmt: skip
    problems: Problems = []
    if kind == "ASSIGN":
        target = (data.get("dataElement"), data.get("trackedEntityAttribute"))
        content = str(data.get("content") or "").strip()
        calculated = content.startswith("#{") and content.endswith("}")
        if target == (None, None) and not calculated:
            problems.append(
                ("E4050", "One of the parameters DataElement, TrackedEntityAttribute or "
                 f"ProgramRuleVariable is required for program rule `{rule}`", "dataElement")
            )  # fmt: skip
        problems += _expression("data", data.get("data"))
    elif data.get("data"):
        problems += _expression("data", data.get("data"))
    return problems


def _with_check(schema: TypeSchema, check: Check) -> TypeSchema:
    return dataclasses.replace(schema, check=check)


TRACKER_SCHEMAS: tuple[TypeSchema, ...] = (
    _with_check(type_schema(
        "relationshipTypes", "relationshipType", "relationship.RelationshipType",
        Prop("description"),
        Prop("fromConstraint", required=True),
        Prop("toConstraint", required=True),
        Prop("bidirectional", default=False),
        Prop("fromToName"),
        Prop("toFromName"),
        Prop("referral", default=False),
        nameable=False,
        order=90,
    ), _constraints),
    _with_check(type_schema(
        "programRuleVariables", "programRuleVariable", "programrule.ProgramRuleVariable",
        Prop("program", "reference", "programs", required=True),
        Prop("programRuleVariableSourceType", required=True),
        Prop("dataElement", "reference", "dataElements"),
        Prop("trackedEntityAttribute", "reference", "trackedEntityAttributes"),
        Prop("programStage", "reference", "programStages"),
        Prop("valueType", default="TEXT"),
        Prop("useCodeForOptionSet", default=False),
        nameable=False,
        unique_name=False,
        order=91,
    ), _variable),
    _with_check(type_schema(
        "programRules", "programRule", "programrule.ProgramRule",
        Prop("description"),
        Prop("program", "reference", "programs", required=True),
        Prop("programStage", "reference", "programStages"),
        Prop("condition", required=True),
        Prop("priority"),
        Prop(
            "programRuleActions", "inverse", "programRuleActions",
            source=("programRuleActions", "programRule"),
        ),
        nameable=False,
        unique_name=False,
        order=92,
    ), _rule),
    _with_check(type_schema(
        "programRuleActions", "programRuleAction", "programrule.ProgramRuleAction",
        Prop("programRule", "reference", "programRules", required=True),
        Prop("programRuleActionType", required=True),
        Prop("data"),
        Prop("content"),
        Prop("dataElement", "reference", "dataElements"),
        Prop("trackedEntityAttribute", "reference", "trackedEntityAttributes"),
        Prop("programStage", "reference", "programStages"),
        nameable=False,
        name_required=False,
        order=93,
    ), _action),
)  # fmt: skip
