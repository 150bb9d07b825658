"""Organisation unit groups and group sets (DHIS2's `organisationUnitGroups`, `...GroupSets`)."""

from __future__ import annotations

from services.sectoral_platform.metadata.schema_types import Prop, TypeSchema, type_schema

GROUP_SCHEMAS: tuple[TypeSchema, ...] = (
    type_schema(
        "organisationUnitGroups", "organisationUnitGroup",
        "organisationunit.OrganisationUnitGroup",
        Prop("organisationUnits", "collection", "organisationUnits"),
        Prop("color"),
        Prop("symbol"),
        Prop("geometry"),
        Prop(
            "groupSets", "inverse", "organisationUnitGroupSets",
            source=("organisationUnitGroupSets", "organisationUnitGroups"),
        ),
        order=13,
    ),
    type_schema(
        "organisationUnitGroupSets", "organisationUnitGroupSet",
        "organisationunit.OrganisationUnitGroupSet",
        Prop("compulsory", default=True),
        Prop("includeSubhierarchyInAnalytics", default=False),
        Prop("dataDimension", default=True),
        Prop("organisationUnitGroups", "collection", "organisationUnitGroups"),
        order=14,
    ),
)  # fmt: skip
