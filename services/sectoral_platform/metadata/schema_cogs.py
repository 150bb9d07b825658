"""Category option groups and group sets (DHIS2's `categoryOptionGroups`, `...GroupSets`)."""

from __future__ import annotations

from services.sectoral_platform.metadata.schema_types import Prop, TypeSchema, type_schema

COGS_SCHEMAS: tuple[TypeSchema, ...] = (
    type_schema(
        "categoryOptionGroups", "categoryOptionGroup", "category.CategoryOptionGroup",
        Prop("categoryOptions", "collection", "categoryOptions"),
        Prop("dataDimensionType", default="DISAGGREGATION"),
        Prop(
            "groupSets", "inverse", "categoryOptionGroupSets",
            source=("categoryOptionGroupSets", "categoryOptionGroups"),
        ),
        order=24,
    ),
    type_schema(
        "categoryOptionGroupSets", "categoryOptionGroupSet", "category.CategoryOptionGroupSet",
        Prop("categoryOptionGroups", "collection", "categoryOptionGroups"),
        Prop("dataDimension", default=True),
        Prop("dataDimensionType", default="DISAGGREGATION"),
        order=25,
    ),
)  # fmt: skip
