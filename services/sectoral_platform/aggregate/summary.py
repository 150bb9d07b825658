"""DHIS2's `dataValueSets` import options and ImportSummary, as typed values."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, TypedDict, cast, get_args

from services.sectoral_platform.errors import bad_request, not_implemented

Strategy = Literal["CREATE_AND_UPDATE", "CREATE", "UPDATE", "DELETE"]
Status = Literal["SUCCESS", "WARNING", "ERROR"]
# DHIS2's legacy ImportStrategy constants, still accepted (2.42)
ALIASES = {
    "NEW_AND_UPDATES": "CREATE_AND_UPDATE",
    "NEW": "CREATE",
    "UPDATES": "UPDATE",
    "DELETES": "DELETE",
}


@dataclass(frozen=True, slots=True)
class ImportOptions:
    """The import parameters the sandbox implements: `importStrategy` and `dryRun`."""

    strategy: Strategy = "CREATE_AND_UPDATE"
    dry_run: bool = False

    @classmethod
    def parse(cls, *, strategy: str = "CREATE_AND_UPDATE", dry_run: bool = False) -> ImportOptions:
        """DHIS2's strategy names, its legacy aliases included; anything else is a 400."""
        name = strategy.upper()
        name = ALIASES.get(name, name)
        if name == "SYNC":  # DHIS2's data value import ignores every value under it
            raise not_implemented(
                "Query parameter `importStrategy=SYNC` is defined by DHIS2 but not implemented here"
            )
        if name not in get_args(Strategy):
            raise bad_request(f"Invalid importStrategy `{strategy.upper()}`")
        return cls(strategy=cast(Strategy, name), dry_run=dry_run)

    def to_json(self) -> dict[str, Any]:
        return {"importStrategy": self.strategy, "dryRun": self.dry_run, "idSchemes": {}}


class Conflict(TypedDict):
    """One grouped conflict: every row index that failed the same way on the same object."""

    object: str
    objects: dict[str, str]
    value: str
    errorCode: str
    property: str
    indexes: list[int]


@dataclass(slots=True)
class ImportCount:
    imported: int = 0
    updated: int = 0
    ignored: int = 0
    deleted: int = 0

    def to_json(self) -> dict[str, int]:
        return {
            "imported": self.imported,
            "updated": self.updated,
            "ignored": self.ignored,
            "deleted": self.deleted,
        }


@dataclass(slots=True)
class ImportSummary:
    """DHIS2's ImportSummary for a data value set import."""

    options: ImportOptions
    status: Status = "SUCCESS"
    description: str = "Import process completed successfully"
    count: ImportCount = field(default_factory=ImportCount)
    conflicts: list[Conflict] = field(default_factory=list)
    rejected_indexes: list[int] = field(default_factory=list)
    data_set_complete: str = "false"

    def to_json(self) -> dict[str, Any]:
        return {
            "responseType": "ImportSummary",
            "status": self.status,
            "importOptions": self.options.to_json(),
            "description": self.description,
            "importCount": self.count.to_json(),
            "conflicts": self.conflicts,
            "rejectedIndexes": self.rejected_indexes,
            "dataSetComplete": self.data_set_complete,
        }


def merge(total: ImportSummary | None, part: ImportSummary, offset: int) -> ImportSummary:
    """Parts of one import (ADX groups, streamed batches) add up, indexes counted across."""
    if total is None:
        return part
    for name in ("imported", "updated", "ignored", "deleted"):
        setattr(total.count, name, getattr(total.count, name) + getattr(part.count, name))
    for conflict_ in part.conflicts:
        conflict_["indexes"] = [i + offset for i in conflict_["indexes"]]
        total.conflicts.append(conflict_)
    total.rejected_indexes += [i + offset for i in part.rejected_indexes]
    if part.status == "ERROR" or (part.status == "WARNING" and total.status == "SUCCESS"):
        total.status, total.description = part.status, part.description
    return total


def format_error(options: ImportOptions, message: str) -> ImportSummary:
    summary = ImportSummary(options=options, status="ERROR", description=message)
    summary.conflicts = [
        Conflict(
            object="payload",
            objects={},
            value=message,
            errorCode="E7600",
            property="payload",
            indexes=[],
        )
    ]
    return summary
