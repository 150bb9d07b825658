"""One `dx` item, whatever its kind."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class DataItem:
    id: str
    # dataElement, detail (element.coc), indicator, reportingRate (dataSet.METRIC); other
    # kinds (program indicators...) register their own parser in analytics.dx
    kind: str
    element: str | None = None  # the data element, or the data set of a reporting rate
    coc: str | None = None  # the option combo of a detail, or the reporting rate metric
