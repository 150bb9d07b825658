"""Per-row validation of data values, with conflicts grouped and indexed as DHIS2 reports them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from services.sectoral_platform.aggregate.context import ImportContext
from services.sectoral_platform.aggregate.values import check_value, normalise, numeric
from services.sectoral_platform.auth.service import CurrentUser
from services.sectoral_platform.metadata.schema import DEFAULT_CATEGORY_OPTION_COMBO

Key = tuple[str, str, str, str, str]


@dataclass
class Conflicts:
    """DHIS2's grouping: one entry per (code, object, message), listing every row index."""

    entries: dict[tuple[str, str, str], dict[str, Any]] = field(default_factory=dict)
    rejected: set[int] = field(default_factory=set)

    def add(self, index: int, code: str, prop: str, obj: str, message: str) -> None:
        key = (code, obj, message)
        entry = self.entries.get(key)
        if entry is None:
            entry = {
                "object": obj,
                "objects": {prop: obj},
                "value": message,
                "errorCode": code,
                "property": prop,
                "indexes": [],
            }
            self.entries[key] = entry
        entry["indexes"].append(index)
        self.rejected.add(index)

    def as_list(self) -> list[dict[str, Any]]:
        return list(self.entries.values())


@dataclass
class Row:
    index: int
    key: Key
    value: str | None
    comment: str | None
    followup: bool
    path: str
    pe_start: str
    pe_end: str
    num: float | None


def _text(raw: Any) -> str | None:
    if raw is None:
        return None
    if isinstance(raw, bool):
        return "true" if raw else "false"
    if isinstance(raw, float) and raw.is_integer():
        return str(int(raw))
    return str(raw)


def validate_row(
    ctx: ImportContext,
    user: CurrentUser,
    header: dict[str, Any],
    index: int,
    raw: Any,
    conflicts: Conflicts,
    capture: list[str],
    deleting: bool,
) -> Row | None:
    if not isinstance(raw, dict):
        conflicts.add(index, "E7600", "dataValue", str(index), "Data value must be an object")
        return None
    de = str(raw.get("dataElement") or "")
    pe = str(raw.get("period") or header.get("period") or "")
    ou = str(raw.get("orgUnit") or header.get("orgUnit") or "")
    co = str(raw.get("categoryOptionCombo") or DEFAULT_CATEGORY_OPTION_COMBO)
    ao = str(
        raw.get("attributeOptionCombo")
        or header.get("attributeOptionCombo")
        or DEFAULT_CATEGORY_OPTION_COMBO
    )
    element = ctx.element(de)
    if element is None:
        conflicts.add(
            index, "E7610", "dataElement", de, f"Data element not found or not accessible: `{de}`"
        )
        return None
    period = ctx.period(pe)
    if period is None:
        conflicts.add(index, "E7611", "period", pe, f"Period not valid: `{pe}`")
        return None
    path = ctx.path(ou)
    if path is None:
        conflicts.add(
            index, "E7612", "orgUnit", ou, f"Org unit not found or not accessible: `{ou}`"
        )
        return None
    if not ctx.is_coc(co):
        conflicts.add(
            index,
            "E7613",
            "categoryOptionCombo",
            co,
            f"Category option combo not found or not accessible for writing data: `{co}`",
        )
        return None
    if co not in ctx.combo_options(element.combo):
        conflicts.add(
            index,
            "E7614",
            "categoryOptionCombo",
            co,
            f"Category option combo: `{co}` must be part of category combo of data element: `{de}`",
        )
        return None
    if not ctx.is_coc(ao):
        conflicts.add(
            index,
            "E7615",
            "attributeOptionCombo",
            ao,
            f"Attribute option combo not found or not accessible for writing data: `{ao}`",
        )
        return None
    if capture is not None and not any(f"/{root}/" in path + "/" for root in capture):
        conflicts.add(
            index,
            "E7620",
            "orgUnit",
            ou,
            f"Organisation unit: `{ou}` not in hierarchy of current user: `{user.username}`",
        )
        return None
    sets = element.data_sets
    header_set = ctx.data_set(header["dataSet"]) if header.get("dataSet") else None
    if header_set is not None:
        sets = [header_set]
    if sets and not any(s.period_type == period.type for s in sets):
        conflicts.add(
            index,
            "E7617",
            "period",
            pe,
            f"Period type of period: `{pe}` not valid for data element: `{de}`",
        )
        return None
    if sets and not any(ou in s.org_units for s in sets):
        conflicts.add(
            index,
            "E7633",
            "orgUnit",
            ou,
            f"Data element: `{de}` must be assigned through data sets to organisation unit: `{ou}`",
        )
        return None
    if sets and all(period.start > ctx.latest_open(s.period_type, s.open_future) for s in sets):
        latest = max(ctx.latest_open(s.period_type, s.open_future) for s in sets)
        conflicts.add(
            index,
            "E7641",
            "period",
            pe,
            f"Period: `{pe}` is after latest open future period: `{latest.isoformat()}` "
            f"for data element: `{de}`",
        )
        return None
    value = _text(raw.get("value"))
    comment = _text(raw.get("comment"))
    if not deleting:
        if value is None and comment is None:
            conflicts.add(
                index,
                "E7618",
                "value",
                de,
                f"Data value or comment not specified for data element: `{de}`",
            )
            return None
        if value not in (None, ""):
            assert value is not None
            reason = check_value(value, element.value_type)
            if reason is not None:
                conflicts.add(
                    index,
                    "E7619",
                    "value",
                    value,
                    f"Value must match data element's `{de}` type constraints: {reason}",
                )
                return None
            if element.options is not None and value not in element.options:
                conflicts.add(
                    index,
                    "E7621",
                    "value",
                    value,
                    f"Data value is not a valid option of the data element option set: `{de}`",
                )
                return None
            value = normalise(value, element.value_type)
    num = numeric(value, element.value_type) if value else None
    if (
        not deleting
        and num == 0
        and not element.zero_significant
        and element.value_type != "BOOLEAN"
    ):
        value = None  # an insignificant zero is not stored (DHIS2 ignores it)
    return Row(
        index,
        (de, pe, ou, co, ao),
        value,
        comment,
        bool(raw.get("followup") or raw.get("followUp")),
        path,
        period.start.isoformat(),
        period.end.isoformat(),
        num,
    )
