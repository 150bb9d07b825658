"""A facility reporting system pushes a monthly report and reads the analytics back."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from dhis2_client import DHIS2Client


@pytest.fixture(scope="module")
def dhis2(dpi_sandbox) -> Iterator[DHIS2Client]:
    own = dpi_sandbox.env.credentials["sectoral_platform"]
    client = DHIS2Client(
        dpi_sandbox.url("sectoral_platform"),
        username=own["admin_username"],
        password=own["admin_password"],
        retries=0,
    )
    yield client
    client.close()


def test_push_a_monthly_report_and_read_it_back(dpi_sandbox, dhis2: DHIS2Client) -> None:
    data_set = dpi_sandbox.dhis2.uid("Monthly health facility report")
    anc1 = dpi_sandbox.dhis2.uid("ANC 1st visit")
    facility = dhis2.get_data_set(data_set, fields="organisationUnits")["organisationUnits"][0][
        "id"
    ]
    summary = dhis2.post_data_value_set(
        {
            "dataSet": data_set,
            "orgUnit": facility,
            "period": "202403",
            "dataValues": [{"dataElement": anc1, "value": "17"}],
        }
    )
    assert summary["response"]["importCount"]["imported"] == 1
    read = dhis2.get_data_value_set({"dataSet": data_set, "orgUnit": facility, "period": "202403"})
    assert [v["value"] for v in read["dataValues"] if v["dataElement"] == anc1] == ["17"]
    analytics = dhis2.get_analytics_data(dx=[anc1], pe="202403", ou=facility)
    assert analytics["rows"] == [[anc1, "202403", facility, "17"]]
