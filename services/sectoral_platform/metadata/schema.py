"""The schema registry: every metadata type is data (properties, references, inverses).

A new type needs only an entry here; storage, listing, fields, filters and import are generic.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Kind = Literal["simple", "reference", "collection", "embedded", "inverse", "computed"]

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
}


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


def _type(
    plural: str,
    singular: str,
    klass: str,
    *props: Prop,
    nameable: bool = True,
    order: int = 50,
    name_required: bool = True,
    unique_name: bool = True,
    defaults: dict[str, object] | None = None,
) -> TypeSchema:
    return TypeSchema(
        plural,
        singular,
        "org.hisp.dhis." + klass,
        _identifiable(nameable, name_required, unique_name) + props,
        nameable=nameable,
        order=order,
        defaults=defaults or {},
    )


DEFAULT_CATEGORY_COMBO = "bjDvmb4bfuf"
DEFAULT_CATEGORY_OPTION_COMBO = "HllvX50cXC0"
DEFAULT_CATEGORY_OPTION = "xYerKDKCefk"
DEFAULT_CATEGORY = "GLevLNI9wkl"

_CC = Prop("categoryCombo", "reference", "categoryCombos", default={"id": DEFAULT_CATEGORY_COMBO})

SCHEMAS: dict[str, TypeSchema] = {
    s.plural: s
    for s in (
        _type(
            "organisationUnits", "organisationUnit", "organisationunit.OrganisationUnit",
            Prop("parent", "reference", "organisationUnits"),
            Prop("openingDate", default="1970-01-01T00:00:00.000"),
            Prop("closedDate"),
            Prop("geometry"),
            Prop("path", "computed"),
            Prop("level", "computed"),
            Prop("leaf", "computed"),
            Prop("ancestors", "computed", "organisationUnits"),
            Prop(
                "children", "inverse", "organisationUnits",
                source=("organisationUnits", "parent"),
            ),
            Prop("dataSets", "inverse", "dataSets", source=("dataSets", "organisationUnits")),
            Prop("programs", "inverse", "programs", source=("programs", "organisationUnits")),
            Prop("users", "inverse", "users", source=("users", "organisationUnits")),
            order=10,
            unique_name=False,
        ),
        _type(
            "organisationUnitLevels", "organisationUnitLevel",
            "organisationunit.OrganisationUnitLevel",
            Prop("level", required=True, unique=True),
            Prop("offlineLevels"),
            nameable=False,
            order=11,
        ),
        _type(
            "categoryOptions", "categoryOption", "category.CategoryOption",
            Prop("startDate"), Prop("endDate"),
            Prop("organisationUnits", "collection", "organisationUnits"),
            Prop("categories", "inverse", "categories", source=("categories", "categoryOptions")),
            order=20,
        ),
        _type(
            "categories", "category", "category.Category",
            Prop("dataDimensionType", default="DISAGGREGATION"),
            Prop("dataDimension", default=True),
            Prop("categoryOptions", "collection", "categoryOptions"),
            order=21,
        ),
        _type(
            "categoryCombos", "categoryCombo", "category.CategoryCombo",
            Prop("dataDimensionType", default="DISAGGREGATION"),
            Prop("skipTotal", default=False),
            Prop("categories", "collection", "categories"),
            Prop(
                "categoryOptionCombos", "inverse", "categoryOptionCombos",
                source=("categoryOptionCombos", "categoryCombo"),
            ),
            nameable=False,
            order=22,
        ),
        _type(
            "categoryOptionCombos", "categoryOptionCombo", "category.CategoryOptionCombo",
            Prop("categoryCombo", "reference", "categoryCombos", required=True),
            Prop("categoryOptions", "collection", "categoryOptions"),
            Prop("ignoreApproval", default=False),
            order=23,
            unique_name=False,
        ),
        _type(
            "options", "option", "option.Option",
            Prop("optionSet", "reference", "optionSets"),
            Prop("sortOrder"),
            name_required=False,
            order=31,
        ),
        _type(
            "optionSets", "optionSet", "option.OptionSet",
            Prop("valueType", required=True, default="TEXT"),
            Prop("options", "collection", "options"),
            Prop("version", default=0),
            nameable=False,
            order=30,
        ),
        _type(
            "dataElements", "dataElement", "dataelement.DataElement",
            Prop("shortName", required=True, unique=True),
            Prop("formName"),
            Prop("valueType", required=True),
            Prop("aggregationType", required=True),
            Prop("domainType", required=True, default="AGGREGATE"),
            Prop("zeroIsSignificant", default=False),
            Prop("url"),
            _CC,
            Prop("optionSet", "reference", "optionSets"),
            Prop("optionSetValue", "computed"),
            Prop(
                "dataSetElements", "inverse", "dataSetElements",
                source=("dataSets", "dataSetElements"), via="dataElement",
            ),
            order=40,
        ),
        _type(
            "dataSets", "dataSet", "dataset.DataSet",
            Prop("periodType", required=True),
            _CC,
            Prop("dataSetElements", "embedded", "dataSetElements"),
            Prop("organisationUnits", "collection", "organisationUnits"),
            Prop("openFuturePeriods", default=0),
            Prop("expiryDays", default=0),
            Prop("timelyDays", default=15),
            Prop("formType", default="DEFAULT"),
            order=50,
        ),
        _type(
            "indicatorTypes", "indicatorType", "indicator.IndicatorType",
            Prop("factor", default=1), Prop("number", default=False),
            nameable=False,
            order=41,
        ),
        _type(
            "indicators", "indicator", "indicator.Indicator",
            Prop("shortName", required=True, unique=True),
            Prop("numerator", required=True),
            Prop("denominator", required=True),
            Prop("numeratorDescription"),
            Prop("denominatorDescription"),
            Prop("indicatorType", "reference", "indicatorTypes", required=True),
            Prop("decimals"),
            Prop("annualized", default=False),
            order=55,
        ),
        _type(
            "userRoles", "userRole", "user.UserRole",
            Prop("authorities", default=[]),
            Prop("users", "inverse", "users", source=("users", "userRoles")),
            nameable=False,
            order=12,
        ),
        _type(
            "users", "user", "user.User",
            Prop("username", required=True, unique=True),
            Prop("firstName", required=True),
            Prop("surname", required=True),
            Prop("email"),
            Prop("phoneNumber"),
            Prop("disabled", default=False),
            Prop("userRoles", "collection", "userRoles"),
            Prop("organisationUnits", "collection", "organisationUnits"),
            Prop("dataViewOrganisationUnits", "collection", "organisationUnits"),
            Prop("teiSearchOrganisationUnits", "collection", "organisationUnits"),
            Prop("authorities", "computed"),
            nameable=False,
            name_required=False,
            order=15,
        ),
        _type(
            "trackedEntityTypes", "trackedEntityType", "trackedentity.TrackedEntityType",
            Prop("trackedEntityTypeAttributes", "embedded", "trackedEntityTypeAttributes"),
            order=60,
        ),
        _type(
            "trackedEntityAttributes", "trackedEntityAttribute",
            "trackedentity.TrackedEntityAttribute",
            Prop("valueType", required=True),
            Prop("aggregationType", default="NONE"),
            Prop("unique", default=False),
            Prop("optionSet", "reference", "optionSets"),
            order=45,
        ),
        _type(
            "programs", "program", "program.Program",
            Prop("programType", required=True),
            Prop("trackedEntityType", "reference", "trackedEntityTypes"),
            Prop("organisationUnits", "collection", "organisationUnits"),
            Prop("programTrackedEntityAttributes", "embedded", "programTrackedEntityAttributes"),
            Prop("onlyEnrollOnce", default=False),
            Prop("displayIncidentDate", default=False),
            Prop("programStages", "inverse", "programStages", source=("programStages", "program")),
            _CC,
            order=65,
        ),
        _type(
            "programStages", "programStage", "program.ProgramStage",
            Prop("program", "reference", "programs", required=True),
            Prop("repeatable", default=False),
            Prop("sortOrder"),
            Prop("programStageDataElements", "embedded", "programStageDataElements"),
            name_required=True,
            order=66,
        ),
    )
}  # fmt: skip

# Embedded (owned) item types: no table of their own, their references resolve normally.
EMBEDDED: dict[str, dict[str, str]] = {
    "dataSetElements": {
        "dataSet": "dataSets",
        "dataElement": "dataElements",
        "categoryCombo": "categoryCombos",
    },
    "trackedEntityTypeAttributes": {"trackedEntityAttribute": "trackedEntityAttributes"},
    "programTrackedEntityAttributes": {"trackedEntityAttribute": "trackedEntityAttributes"},
    "programStageDataElements": {"dataElement": "dataElements"},
}
EMBEDDED_SIMPLE: dict[str, tuple[str, ...]] = {
    "trackedEntityTypeAttributes": ("mandatory", "searchable", "displayInList"),
    "programTrackedEntityAttributes": ("mandatory", "searchable", "displayInList", "sortOrder"),
    "programStageDataElements": ("compulsory", "sortOrder"),
    "dataSetElements": (),
}

IDENTIFIABLE_FIELDS = ("id", "name", "code", "created", "lastUpdated", "createdBy", "lastUpdatedBy")
NAMEABLE_FIELDS = (*IDENTIFIABLE_FIELDS, "shortName", "description")


def schema_for(plural: str) -> TypeSchema | None:
    return SCHEMAS.get(plural)


def by_singular(singular: str) -> TypeSchema | None:
    for schema in SCHEMAS.values():
        if schema.singular == singular:
            return schema
    return None


def import_order() -> list[TypeSchema]:
    return sorted(SCHEMAS.values(), key=lambda s: s.order)
