"""The schema registry: every metadata type is data (properties, references, inverses).

A new type needs only an entry here; storage, listing, fields, filters and import are generic.
"""

from __future__ import annotations

from services.sectoral_platform.metadata.schema_cogs import COGS_SCHEMAS
from services.sectoral_platform.metadata.schema_groups import GROUP_SCHEMAS
from services.sectoral_platform.metadata.schema_programs import PROGRAM_SCHEMAS
from services.sectoral_platform.metadata.schema_tracker import TRACKER_SCHEMAS
from services.sectoral_platform.metadata.schema_types import Prop, TypeSchema, type_schema
from services.sectoral_platform.metadata.schema_validation import VALIDATION_SCHEMAS

DEFAULT_CATEGORY_COMBO = "bjDvmb4bfuf"
DEFAULT_CATEGORY_OPTION_COMBO = "HllvX50cXC0"
DEFAULT_CATEGORY_OPTION = "xYerKDKCefk"
DEFAULT_CATEGORY = "GLevLNI9wkl"

_CC = Prop("categoryCombo", "reference", "categoryCombos", default={"id": DEFAULT_CATEGORY_COMBO})

SCHEMAS: dict[str, TypeSchema] = {
    s.plural: s
    for s in (
        type_schema(
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
        type_schema(
            "organisationUnitLevels", "organisationUnitLevel",
            "organisationunit.OrganisationUnitLevel",
            Prop("level", required=True, unique=True),
            Prop("offlineLevels"),
            nameable=False,
            order=11,
        ),
        type_schema(
            "categoryOptions", "categoryOption", "category.CategoryOption",
            Prop("startDate"), Prop("endDate"),
            Prop("organisationUnits", "collection", "organisationUnits"),
            Prop("categories", "inverse", "categories", source=("categories", "categoryOptions")),
            order=20,
        ),
        type_schema(
            "categories", "category", "category.Category",
            Prop("dataDimensionType", default="DISAGGREGATION"),
            Prop("dataDimension", default=True),
            Prop("categoryOptions", "collection", "categoryOptions"),
            order=21,
        ),
        type_schema(
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
        type_schema(
            "categoryOptionCombos", "categoryOptionCombo", "category.CategoryOptionCombo",
            Prop("categoryCombo", "reference", "categoryCombos", required=True),
            Prop("categoryOptions", "collection", "categoryOptions"),
            Prop("ignoreApproval", default=False),
            order=23,
            unique_name=False,
        ),
        type_schema(
            "options", "option", "option.Option",
            Prop("optionSet", "reference", "optionSets"),
            Prop("sortOrder"),
            name_required=False,
            order=31,
        ),
        type_schema(
            "optionSets", "optionSet", "option.OptionSet",
            Prop("valueType", required=True, default="TEXT"),
            Prop("options", "collection", "options"),
            Prop("version", default=0),
            nameable=False,
            order=30,
        ),
        type_schema(
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
        type_schema(
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
        type_schema(
            "indicatorTypes", "indicatorType", "indicator.IndicatorType",
            Prop("factor", default=1), Prop("number", default=False),
            nameable=False,
            order=41,
        ),
        type_schema(
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
        type_schema(
            "userRoles", "userRole", "user.UserRole",
            Prop("authorities", default=[]),
            Prop("users", "inverse", "users", source=("users", "userRoles")),
            nameable=False,
            order=12,
        ),
        type_schema(
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
        type_schema(
            "trackedEntityTypes", "trackedEntityType", "trackedentity.TrackedEntityType",
            Prop("trackedEntityTypeAttributes", "embedded", "trackedEntityTypeAttributes"),
            Prop("featureType", default="NONE"),
            order=60,
        ),
        type_schema(
            "trackedEntityAttributes", "trackedEntityAttribute",
            "trackedentity.TrackedEntityAttribute",
            Prop("valueType", required=True),
            Prop("aggregationType", default="NONE"),
            Prop("unique", default=False),
            Prop("optionSet", "reference", "optionSets"),
            order=45,
        ),
        type_schema(
            "programs", "program", "program.Program",
            Prop("programType", required=True),
            Prop("trackedEntityType", "reference", "trackedEntityTypes"),
            Prop("organisationUnits", "collection", "organisationUnits"),
            Prop("programTrackedEntityAttributes", "embedded", "programTrackedEntityAttributes"),
            Prop("onlyEnrollOnce", default=False),
            Prop("displayIncidentDate", default=False),
            Prop("selectEnrollmentDatesInFuture", default=False),
            Prop("selectIncidentDatesInFuture", default=False),
            Prop("featureType", default="NONE"),
            Prop("programStages", "inverse", "programStages", source=("programStages", "program")),
            _CC,
            order=65,
        ),
        type_schema(
            "programStages", "programStage", "program.ProgramStage",
            Prop("program", "reference", "programs", required=True),
            Prop("repeatable", default=False),
            Prop("sortOrder"),
            Prop("programStageDataElements", "embedded", "programStageDataElements"),
            Prop("featureType", default="NONE"),
            Prop("enableUserAssignment", default=False),
            name_required=True,
            order=66,
        ),
        *VALIDATION_SCHEMAS,
    )
}  # fmt: skip
SCHEMAS.update({s.plural: s for s in PROGRAM_SCHEMAS})
SCHEMAS.update({s.plural: s for s in TRACKER_SCHEMAS})

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

SCHEMAS.update({s.plural: s for s in GROUP_SCHEMAS})
SCHEMAS.update({s.plural: s for s in COGS_SCHEMAS})


def schema_for(plural: str) -> TypeSchema | None:
    return SCHEMAS.get(plural)


def by_singular(singular: str) -> TypeSchema | None:
    for schema in SCHEMAS.values():
        if schema.singular == singular:
            return schema
    return None


def import_order() -> list[TypeSchema]:
    return sorted(SCHEMAS.values(), key=lambda s: s.order)
