"""The analytics request options besides dimensions: output id scheme, meta/data skipping,
numerator/denominator columns, hierarchy meta, aggregation type, measure criteria, dates."""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date

from services.sectoral_platform.dhis2.web import parse_bool
from services.sectoral_platform.errors import conflict

MEASURE_OPERATORS: dict[str, Callable[[float, float], bool]] = {
    "EQ": operator.eq,
    "GT": operator.gt,
    "GE": operator.ge,
    "LT": operator.lt,
    "LE": operator.le,
}


NARROW_SCHEMES = {
    "dataElements": "outputDataElementIdScheme",
    "dataItems": "outputDataItemIdScheme",
    "organisationUnits": "outputOrgUnitIdScheme",
}


@dataclass
class Options:
    output_id_scheme: str = "UID"
    # the narrower schemes: data elements, every dx item, org units (None: the general one)
    output_schemes: dict[str, str] = field(default_factory=dict)
    order: str | None = None  # ASC or DESC on the value
    user_org_units: list[str] = field(default_factory=list)  # in place of the user's own
    display: str = "NAME"
    skip_meta: bool = False
    skip_data: bool = False
    skip_rounding: bool = False
    include_num_den: bool = False
    show_hierarchy: bool = False
    hierarchy_meta: bool = False
    include_details: bool = False
    aggregation_type: str | None = None
    measure_criteria: list[tuple[str, float]] = field(default_factory=list)
    # on each stored value before aggregation
    pre_criteria: list[tuple[str, float]] = field(default_factory=list)
    start: date | None = None
    end: date | None = None

    @property
    def all_uid(self) -> bool:
        return self.output_id_scheme == "UID" and all(
            s == "UID" for s in self.output_schemes.values()
        )

    def scheme_for(self, plural: str) -> str:
        """The output id scheme of an object of the type: the narrowest one given."""
        if plural == "dataElements" and "dataElements" in self.output_schemes:
            return self.output_schemes["dataElements"]
        if plural in ("dataElements", "indicators", "dataSets"):
            return self.output_schemes.get("dataItems", self.output_id_scheme)
        if plural == "organisationUnits":
            return self.output_schemes.get("organisationUnits", self.output_id_scheme)
        return self.output_id_scheme

    def accepts(self, value: float) -> bool:
        return all(MEASURE_OPERATORS[op](value, limit) for op, limit in self.measure_criteria)


def _date(raw: str, name: str) -> date:
    try:
        return date.fromisoformat(raw[:10])
    except ValueError as exc:
        raise conflict(f"Date time is not parsable: `{raw}` ({name})", "E7135") from exc


def _criteria(raw: str) -> list[tuple[str, float]]:
    found: list[tuple[str, float]] = []
    for part in (p for p in raw.split(";") if p):
        op, _, value = part.partition(":")
        try:
            limit = float(value)
        except ValueError:
            limit = float("nan")
        if op.upper() not in MEASURE_OPERATORS or limit != limit:
            raise conflict(f"Measure criteria is invalid: `{part}`", "E7124")
        found.append((op.upper(), limit))
    return found


def parse_options(params: Mapping[str, str]) -> Options:
    """The options as DHIS2 reads them; enumerations are checked by the endpoint table."""
    options = Options(
        output_id_scheme=(params.get("outputIdScheme") or "UID").upper(),
        display=(params.get("displayProperty") or "NAME").upper(),
        skip_meta=parse_bool(params.get("skipMeta")),
        skip_data=parse_bool(params.get("skipData")),
        skip_rounding=parse_bool(params.get("skipRounding")),
        include_num_den=parse_bool(params.get("includeNumDen")),
        show_hierarchy=parse_bool(params.get("showHierarchy")),
        hierarchy_meta=parse_bool(params.get("hierarchyMeta")),
        include_details=parse_bool(params.get("includeMetadataDetails")),
        aggregation_type=(params.get("aggregationType") or "").upper() or None,
        measure_criteria=_criteria(params.get("measureCriteria") or ""),
        pre_criteria=_criteria(params.get("preAggregationMeasureCriteria") or ""),
        order=(params.get("order") or "").upper() or None,
        user_org_units=[u for u in (params.get("userOrgUnit") or "").split(";") if u],
    )
    for kind, name in NARROW_SCHEMES.items():
        if params.get(name):
            options.output_schemes[kind] = params[name].upper()
    start, end = params.get("startDate"), params.get("endDate")
    if start or end:
        if not (start and end):
            raise conflict(
                "Start date and end date must both be specified: "
                f"`{'startDate' if not start else 'endDate'}` is missing",
                "E7104",
            )
        options.start, options.end = _date(start, "startDate"), _date(end, "endDate")
        if options.start > options.end:
            raise conflict("Start date cannot be after end date", "E7106")
    return options
