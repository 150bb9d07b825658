"""What an import needs to know about metadata, looked up once per request."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from services.sectoral_platform.aggregate.periods import Period, parse_period, period_of_type, shift
from services.sectoral_platform.metadata.schema import (
    DEFAULT_CATEGORY_COMBO,
    DEFAULT_CATEGORY_OPTION_COMBO,
)
from services.sectoral_platform.metadata.store import MetadataStore


@dataclass
class DataSetInfo:
    uid: str
    period_type: str
    org_units: set[str]
    open_future: int
    elements: set[str]


@dataclass
class ElementInfo:
    uid: str
    value_type: str
    combo: str
    zero_significant: bool
    options: set[str] | None
    data_sets: list[DataSetInfo] = field(default_factory=list)


class ImportContext:
    """Memoised metadata lookups for one request over a consistent snapshot of the store."""

    def __init__(self, store: MetadataStore, today: date) -> None:
        self.store = store
        self.today = today
        self._elements: dict[str, ElementInfo | None] = {}
        self._sets: dict[str, DataSetInfo | None] = {}
        self._periods: dict[str, Period | None] = {}
        self._cocs: dict[str, set[str]] = {}
        self._paths: dict[str, str | None] = {}
        self._latest_open: dict[tuple[str, int], date] = {}

    def data_set(self, uid: str) -> DataSetInfo | None:
        if uid not in self._sets:
            ds = self.store.get("dataSets", uid)
            self._sets[uid] = (
                None
                if ds is None
                else DataSetInfo(
                    uid,
                    ds.get("periodType", "Monthly"),
                    {r["id"] for r in ds.get("organisationUnits") or []},
                    int(ds.get("openFuturePeriods") or 0),
                    {
                        str((i.get("dataElement") or {}).get("id"))
                        for i in ds.get("dataSetElements") or []
                    },
                )
            )
        return self._sets[uid]

    def element(self, uid: str) -> ElementInfo | None:
        if uid not in self._elements:
            de = self.store.get("dataElements", uid)
            if de is None:
                self._elements[uid] = None
            else:
                options = None
                option_set = self.store.get("optionSets", (de.get("optionSet") or {}).get("id", ""))
                if option_set is not None:
                    options = set()
                    for ref in option_set.get("options") or []:
                        option = self.store.get("options", ref.get("id", "")) or {}
                        options.add(option.get("code") or "")
                info = ElementInfo(
                    uid,
                    de.get("valueType", "NUMBER"),
                    (de.get("categoryCombo") or {}).get("id", DEFAULT_CATEGORY_COMBO),
                    bool(de.get("zeroIsSignificant")),
                    options,
                )
                for item in self.store.inverse("dataElements", "dataSetElements", uid):
                    ds = self.data_set(item["dataSet"]["id"])
                    if ds is not None:
                        info.data_sets.append(ds)
                self._elements[uid] = info
        return self._elements[uid]

    def period(self, pid: str) -> Period | None:
        if pid not in self._periods:
            self._periods[pid] = parse_period(pid)
        return self._periods[pid]

    def combo_options(self, combo: str) -> set[str]:
        if combo not in self._cocs:
            cocs = {
                r["id"] for r in self.store.inverse("categoryCombos", "categoryOptionCombos", combo)
            }
            if combo == DEFAULT_CATEGORY_COMBO:
                cocs.add(DEFAULT_CATEGORY_OPTION_COMBO)
            self._cocs[combo] = cocs
        return self._cocs[combo]

    def is_coc(self, uid: str) -> bool:
        return (
            uid == DEFAULT_CATEGORY_OPTION_COMBO
            or self.store.get("categoryOptionCombos", uid) is not None
        )

    def path(self, ou: str) -> str | None:
        if ou not in self._paths:
            self._paths[ou] = (
                self.store.path(ou) if self.store.get("organisationUnits", ou) else None
            )
        return self._paths[ou]

    def latest_open(self, period_type: str, open_future: int) -> date:
        key = (period_type, open_future)
        if key not in self._latest_open:
            try:
                current = period_of_type(period_type, self.today)
                self._latest_open[key] = shift(current, open_future).end
            except (ValueError, KeyError):
                self._latest_open[key] = date.max
        return self._latest_open[key]
