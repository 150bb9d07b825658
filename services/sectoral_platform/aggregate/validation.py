"""Per-row validation of data values, with conflicts grouped and indexed as DHIS2 reports them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from services.sectoral_platform.aggregate.context import DataSetInfo, ElementInfo, ImportContext
from services.sectoral_platform.aggregate.periods import Period
from services.sectoral_platform.aggregate.summary import Conflict
from services.sectoral_platform.aggregate.values import check_value, normalise, numeric
from services.sectoral_platform.auth.scope import Kind, Scope
from services.sectoral_platform.metadata.schema import DEFAULT_CATEGORY_OPTION_COMBO

Key = tuple[str, str, str, str, str]


@dataclass
class Conflicts:
    """DHIS2's grouping: one entry per (code, object, message), listing every row index."""

    entries: dict[tuple[str, str, str], Conflict] = field(default_factory=dict)
    rejected: set[int] = field(default_factory=set)

    def add(self, index: int, code: str, prop: str, obj: str, message: str) -> None:
        key = (code, obj, message)
        entry = self.entries.get(key)
        if entry is None:
            entry = Conflict(
                object=obj,
                objects={prop: obj},
                value=message,
                errorCode=code,
                property=prop,
                indexes=[],
            )
            self.entries[key] = entry
        entry["indexes"].append(index)
        self.rejected.add(index)

    def as_list(self) -> list[Conflict]:
        return list(self.entries.values())


@dataclass(slots=True)
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
    stored_by: str | None = None  # as sent; the importing user when absent
    deleted: bool = False


def _id(raw: Any) -> str:
    return raw if type(raw) is str else ("" if raw is None else str(raw))


def _text(raw: Any) -> str | None:
    if raw is None:
        return None
    if isinstance(raw, bool):
        return "true" if raw else "false"
    if isinstance(raw, float) and raw.is_integer():
        return str(int(raw))
    return str(raw)


Problem = tuple[str, str, str, str]  # error code, property, object, message


class RowValidator:
    """Validates rows in DHIS2's order of checks, memoising every check that does not depend on
    the value itself (a batch repeats the same elements, periods and org units many times)."""

    def __init__(
        self,
        ctx: ImportContext,
        scope: Scope,
        header: dict[str, Any],
        deleting: bool,
    ) -> None:
        self.ctx = ctx
        self.scope = scope
        self.header = header
        self.deleting = deleting
        self.header_set = ctx.data_set(header["dataSet"]) if header.get("dataSet") else None
        self._units: dict[str, tuple[str | None, Problem | None]] = {}
        self._cocs: dict[tuple[str, str, str], Problem | None] = {}
        self._periods: dict[tuple[str, str], tuple[Problem | None, Problem | None]] = {}
        self._assigned: dict[tuple[str, str], Problem | None] = {}
        self._pe_memo: dict[tuple[str, str], tuple[Any, ...]] = {}
        self._ou_memo: dict[tuple[str, str, str, str], tuple[Any, ...]] = {}

    def _sets(self, element: ElementInfo) -> list[DataSetInfo]:
        return [self.header_set] if self.header_set is not None else element.data_sets

    def _unit(self, ou: str) -> tuple[str | None, Problem | None]:
        if ou not in self._units:
            path = self.ctx.path(ou)
            problem: Problem | None = None
            if path is None:
                message = f"Org unit not found or not accessible: `{ou}`"
                problem = ("E7612", "orgUnit", ou, message)
            elif not self.scope.covers_path(Kind.CAPTURE, path):
                message = (
                    f"Organisation unit: `{ou}` not in hierarchy of current user: "
                    f"`{self.scope.username}`"
                )
                problem = ("E7620", "orgUnit", ou, message)
            self._units[ou] = (path, problem)
        return self._units[ou]

    def _combos(self, element: ElementInfo, co: str, ao: str) -> Problem | None:
        key = (element.uid, co, ao)
        if key not in self._cocs:
            problem: Problem | None = None
            if not self.ctx.is_coc(co):
                message = (
                    f"Category option combo not found or not accessible for writing data: `{co}`"
                )
                problem = ("E7613", "categoryOptionCombo", co, message)
            elif co not in self.ctx.combo_options(element.combo):
                message = (
                    f"Category option combo: `{co}` must be part of category combo of data "
                    f"element: `{element.uid}`"
                )
                problem = ("E7614", "categoryOptionCombo", co, message)
            elif not self.ctx.is_coc(ao):
                message = (
                    f"Attribute option combo not found or not accessible for writing data: `{ao}`"
                )
                problem = ("E7615", "attributeOptionCombo", ao, message)
            self._cocs[key] = problem
        return self._cocs[key]

    def _period(
        self, element: ElementInfo, period: Period
    ) -> tuple[Problem | None, Problem | None]:
        """(period type problem, future period problem) for this element and period."""
        key = (element.uid, period.id)
        if key not in self._periods:
            sets = self._sets(element)
            kind: Problem | None = None
            future: Problem | None = None
            if sets and not any(s.period_type == period.type for s in sets):
                message = (
                    f"Period type of period: `{period.id}` not valid for data element: "
                    f"`{element.uid}`"
                )
                kind = ("E7617", "period", period.id, message)
            latest = [self.ctx.latest_open(s.period_type, s.open_future) for s in sets]
            if latest and all(period.start > day for day in latest):
                message = (
                    f"Period: `{period.id}` is after latest open future period: "
                    f"`{max(latest).isoformat()}` for data element: `{element.uid}`"
                )
                future = ("E7641", "period", period.id, message)
            self._periods[key] = (kind, future)
        return self._periods[key]

    def _assignment(self, element: ElementInfo, ou: str) -> Problem | None:
        key = (element.uid, ou)
        if key not in self._assigned:
            sets = self._sets(element)
            problem: Problem | None = None
            if sets and not any(ou in s.org_units for s in sets):
                message = (
                    f"Data element: `{element.uid}` must be assigned through data sets to "
                    f"organisation unit: `{ou}`"
                )
                problem = ("E7633", "orgUnit", ou, message)
            self._assigned[key] = problem
        return self._assigned[key]

    def _by_period(self, de: str, pe: str) -> tuple[Any, ...]:
        """(element, period, period-type problem, future problem, start, end) for (de, pe)."""
        key = (de, pe)
        found = self._pe_memo.get(key)
        if found is None:
            element = self.ctx.element(de)
            period = self.ctx.period(pe)
            kind = future = None
            bounds = ("", "")
            if element is not None and period is not None:
                kind, future = self._period(element, period)
                bounds = (period.start.isoformat(), period.end.isoformat())
            found = (element, period, kind, future, *bounds)
            self._pe_memo[key] = found
        return found

    def _by_unit(self, element: ElementInfo, ou: str, co: str, ao: str) -> tuple[Any, ...]:
        """(path, first problem among unit, combos, capture, assignment) for the row's place."""
        key = (element.uid, ou, co, ao)
        found = self._ou_memo.get(key)
        if found is None:
            path, unit_problem = self._unit(ou)
            found_problem = None
            for problem in (
                unit_problem if unit_problem and unit_problem[0] == "E7612" else None,
                self._combos(element, co, ao),
                unit_problem,
            ):
                if problem is not None:
                    found_problem = problem
                    break
            assigned = None if path is None else self._assignment(element, ou)
            found = (path, found_problem, assigned)
            self._ou_memo[key] = found
        return found

    def validate(self, index: int, raw: Any, conflicts: Conflicts) -> Row | None:
        if type(raw) is not dict:
            conflicts.add(index, "E7600", "dataValue", str(index), "Data value must be an object")
            return None
        header = self.header
        get = raw.get
        # `_id` only for what is not already a string (per value: the calls are the cost)
        de = get("dataElement")
        de = de if type(de) is str else _id(de)
        pe = get("period") or header.get("period")
        pe = pe if type(pe) is str else _id(pe)
        ou = get("orgUnit") or header.get("orgUnit")
        ou = ou if type(ou) is str else _id(ou)
        co = get("categoryOptionCombo")
        co = (co if type(co) is str else _id(co)) or DEFAULT_CATEGORY_OPTION_COMBO
        ao = get("attributeOptionCombo") or header.get("attributeOptionCombo")
        ao = (ao if type(ao) is str else _id(ao)) or DEFAULT_CATEGORY_OPTION_COMBO
        element, period, kind, future, start, end = self._by_period(de, pe)
        if element is None:
            message = f"Data element not found or not accessible: `{de}`"
            conflicts.add(index, "E7610", "dataElement", de, message)
            return None
        if period is None:
            conflicts.add(index, "E7611", "period", pe, f"Period not valid: `{pe}`")
            return None
        path, place_problem, assigned = self._by_unit(element, ou, co, ao)
        for problem in (place_problem, kind, assigned, future):
            if problem is not None:
                conflicts.add(index, *problem)
                return None
        stored_by = _text(get("storedBy"))
        if stored_by is not None and not stored_by.strip():
            stored_by = None  # blank: the importing user, as in DHIS2
        elif stored_by is not None and len(stored_by) > 255:  # DHIS2's storedByIsValid
            message = "Invalid storedBy: stored_by_length_greater_than_max_length"
            conflicts.add(index, "E7637", "storedBy", de, message)
            return None
        value = get("value")
        value = value if type(value) is str else _text(value)
        comment = get("comment")
        comment = None if comment is None else _text(comment)
        value_type = element.value_type
        if not self.deleting:
            problem = self._value(element, de, value, comment)
            if problem is not None:
                conflicts.add(index, *problem)
                return None
            if value and value_type in ("BOOLEAN", "TRUE_ONLY"):
                value = normalise(value, value_type)
        num = numeric(value, value_type) if value else None
        insignificant = num == 0 and not element.zero_significant and value_type != "BOOLEAN"
        if insignificant and not self.deleting:
            value = None  # an insignificant zero is not stored (DHIS2 ignores it)
        followup = bool(get("followup") or get("followUp"))
        deleted = get("deleted")
        deleted = deleted is True or (type(deleted) is str and deleted.lower() == "true")
        return Row(
            index, (de, period.id, ou, co, ao), value, comment, followup, path, start, end, num,
            stored_by, deleted,
        )  # fmt: skip

    @staticmethod
    def _value(
        element: ElementInfo, de: str, value: str | None, comment: str | None
    ) -> Problem | None:
        if value is None and comment is None:
            message = f"Data value or comment not specified for data element: `{de}`"
            return ("E7618", "value", de, message)
        if not value:
            return None
        reason = check_value(value, element.value_type)
        if reason is not None:
            message = f"Value must match data element's `{de}` type constraints: {reason}"
            return ("E7619", "value", value, message)
        if element.options is not None and value not in element.options:
            message = f"Data value is not a valid option of the data element option set: `{de}`"
            return ("E7621", "value", value, message)
        return None
