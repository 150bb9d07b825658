"""Building blocks of the schema registry: properties, type schemas and the DHIS2 enumerations."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

# a type's own rule on an imported object: (data, referable(type, uid)) -> (code, message, prop)
Kind = Literal["simple", "reference", "collection", "embedded", "inverse", "computed"]
# A type's own import check: (object, referable(type, uid)) -> [(error code, message, property)]
Check = Callable[[dict[str, Any], Callable[[str, str], bool]], list[tuple[str, str, str]]]

VALUE_TYPES = (
    "TEXT", "LONG_TEXT", "MULTI_TEXT", "LETTER", "PHONE_NUMBER", "EMAIL", "BOOLEAN", "TRUE_ONLY",
    "DATE", "DATETIME", "TIME", "NUMBER", "UNIT_INTERVAL", "PERCENTAGE", "INTEGER",
    "INTEGER_POSITIVE", "INTEGER_NEGATIVE", "INTEGER_ZERO_OR_POSITIVE", "TRACKER_ASSOCIATE",
    "USERNAME", "COORDINATE", "ORGANISATION_UNIT", "REFERENCE", "AGE", "URL", "FILE_RESOURCE",
    "IMAGE", "GEOJSON",
)  # fmt: skip
AGGREGATION_TYPES = (
    "SUM", "AVERAGE", "AVERAGE_SUM_ORG_UNIT", "LAST", "LAST_AVERAGE_ORG_UNIT", "FIRST",
    "FIRST_AVERAGE_ORG_UNIT", "COUNT", "STDDEV", "VARIANCE", "MIN", "MAX", "NONE", "CUSTOM",
    "DEFAULT",
)  # fmt: skip
PERIOD_TYPES = (
    "Daily", "Weekly", "WeeklyWednesday", "WeeklyThursday", "WeeklySaturday", "WeeklySunday",
    "BiWeekly", "Monthly", "BiMonthly", "Quarterly", "SixMonthly", "SixMonthlyApril", "Yearly",
    "FinancialApril", "FinancialJuly", "FinancialOct", "FinancialNov",
)  # fmt: skip
ENUMS: dict[str, tuple[str, ...]] = {
    "valueType": VALUE_TYPES,
    "aggregationType": AGGREGATION_TYPES,
    "domainType": ("AGGREGATE", "TRACKER"),
    "periodType": PERIOD_TYPES,
    "dataDimensionType": ("DISAGGREGATION", "ATTRIBUTE"),
    "programType": ("WITH_REGISTRATION", "WITHOUT_REGISTRATION"),
    "operator": (
        "equal_to", "not_equal_to", "greater_than", "greater_than_or_equal_to", "less_than",
        "less_than_or_equal_to", "compulsory_pair", "exclusive_pair",
    ),
    "importance": ("HIGH", "MEDIUM", "LOW"),
    "organisationUnitDescendants": ("SELECTED", "DESCENDANTS"),
}  # fmt: skip


@dataclass(frozen=True)
class Prop:
    """One property: `target` is the referenced type (or the embedded type for `embedded`)."""

    name: str
    kind: Kind = "simple"
    target: str | None = None
    required: bool = False
    unique: bool = False
    default: object = None
    # inverse: the (type, property) on which other objects point at this one
    source: tuple[str, str] | None = None
    # for inverse over embedded items: the item property pointing at this object
    via: str | None = None


@dataclass(frozen=True)
class TypeSchema:
    plural: str
    singular: str
    klass: str
    props: tuple[Prop, ...]
    nameable: bool = True
    embedded: bool = False
    order: int = 50  # import order: referenced types first
    defaults: dict[str, object] = field(default_factory=dict)
    check: Check | None = None

    def prop(self, name: str) -> Prop | None:
        for prop in self.props:
            if prop.name == name:
                return prop
        return None

    @property
    def owner_props(self) -> list[Prop]:
        return [p for p in self.props if p.kind not in ("inverse", "computed")]


def _identifiable(nameable: bool, name_required: bool, unique_name: bool) -> tuple[Prop, ...]:
    props = [
        Prop("id"),
        Prop("code", unique=True),
        Prop("name", required=name_required, unique=name_required and unique_name),
        Prop("created", kind="computed"),
        Prop("lastUpdated", kind="computed"),
        Prop("createdBy", kind="computed", target="users"),
        Prop("lastUpdatedBy", kind="computed", target="users"),
        Prop("displayName", kind="computed"),
        Prop("href", kind="computed"),
        Prop("attributeValues"),
        Prop("translations"),
    ]
    if nameable:
        props += [
            Prop("shortName"),
            Prop("description"),
            Prop("displayShortName", kind="computed"),
            Prop("displayDescription", kind="computed"),
        ]
    return tuple(props)


def type_schema(
    plural: str,
    singular: str,
    klass: str,
    *props: Prop,
    nameable: bool = True,
    order: int = 50,
    name_required: bool = True,
    unique_name: bool = True,
    defaults: dict[str, object] | None = None,
    check: Check | None = None,
) -> TypeSchema:
    return TypeSchema(
        plural,
        singular,
        "org.hisp.dhis." + klass,
        _identifiable(nameable, name_required, unique_name) + props,
        nameable=nameable,
        order=order,
        defaults=defaults or {},
        check=check,
    )
