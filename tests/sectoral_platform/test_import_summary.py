"""The typed dataValueSets import options and ImportSummary serialise as DHIS2 does."""

from __future__ import annotations

import orjson
import pytest

from services.sectoral_platform.aggregate.summary import ImportCount, ImportOptions, ImportSummary
from services.sectoral_platform.errors import Dhis2Error


@pytest.mark.parametrize(
    ("given", "strategy"),
    [
        ("create_and_update", "CREATE_AND_UPDATE"),
        ("NEW_AND_UPDATES", "CREATE_AND_UPDATE"),
        ("new", "CREATE"),
        ("UPDATES", "UPDATE"),
        ("delete", "DELETE"),
    ],
)
def test_strategy_names_and_legacy_aliases(given: str, strategy: str) -> None:
    assert ImportOptions.parse(strategy=given).strategy == strategy


def test_unknown_strategy_is_a_400_naming_it() -> None:
    with pytest.raises(Dhis2Error) as caught:
        ImportOptions.parse(strategy="merge")
    assert caught.value.status == 400
    assert caught.value.message == "Invalid importStrategy `MERGE`"


def test_summary_json_has_dhis2_keys_in_dhis2_order() -> None:
    summary = ImportSummary(
        options=ImportOptions(strategy="UPDATE", dry_run=True),
        count=ImportCount(imported=1, updated=2, ignored=3, deleted=4),
    )
    assert orjson.dumps(summary.to_json()) == orjson.dumps(
        {
            "responseType": "ImportSummary",
            "status": "SUCCESS",
            "importOptions": {"importStrategy": "UPDATE", "dryRun": True, "idSchemes": {}},
            "description": "Import process completed successfully",
            "importCount": {"imported": 1, "updated": 2, "ignored": 3, "deleted": 4},
            "conflicts": [],
            "rejectedIndexes": [],
            "dataSetComplete": "false",
        }
    )
