"""Compatibility with the official DHIS2 Python client (`dhis2-client`), unmodified.

The client is synchronous, so the app runs in a real uvicorn server on a loopback port in a thread.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import pytest
import uvicorn
from dhis2_client import DHIS2Client, DHIS2HTTPError

from services.sectoral_platform.main import create_app
from services.sectoral_platform.settings import SectoralSettings
from tests.sectoral_platform.conftest import ANC1, ANC4, COC, DATA_SET, FACILITIES, ROOT


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture
def base_url(settings: SectoralSettings) -> Iterator[str]:
    port = _free_port()
    config = uvicorn.Config(
        create_app(settings), host="127.0.0.1", port=port, log_level="warning", lifespan="on"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture
def dhis2(base_url: str) -> Iterator[DHIS2Client]:
    client = DHIS2Client(base_url, username="admin", password="district", retries=0)
    yield client
    client.close()


def test_system_info_and_current_user(dhis2: DHIS2Client) -> None:
    info = dhis2.get_system_info()
    assert info["version"].startswith("2.42.")
    me = dhis2.get_current_user()
    assert me["username"] == "admin" and "ALL" in me["authorities"]
    users = list(dhis2.get_users(fields="id,username"))  # type: ignore[no-untyped-call]
    assert "admin" in {u["username"] for u in users}
    assert dhis2.get_user(me["id"], fields="id,username")["username"] == "admin"


def test_org_units_paged_and_tree(dhis2: DHIS2Client) -> None:
    paged = dhis2.fetch_all("/api/organisationUnits", params={"fields": "id,level"}, page_size=3)
    assert len(paged) == 10 == len({u["id"] for u in paged})
    assert [u["id"] for u in dhis2.get_organisation_units(level=1)] == [ROOT]  # type: ignore[no-untyped-call]
    tree = dhis2.get_org_unit_tree(ROOT, levels=3)
    assert tree["id"] == ROOT and len(tree["children"]) == 1
    assert len(tree["children"][0]["children"]) == 2
    assert dhis2.get_org_unit(FACILITIES[0], fields="id,level")["level"] == 4


def test_data_elements_and_data_sets(dhis2: DHIS2Client) -> None:
    elements = list(dhis2.get_data_elements(fields="id,name,valueType"))  # type: ignore[no-untyped-call]
    assert ANC1 in {e["id"] for e in elements} and len(elements) == 11 + 3  # 3 tracker elements
    assert dhis2.get_data_element(ANC1, fields="id,name")["name"] == "ANC 1st visit"
    created = dhis2.create_data_element(
        {
            "name": "Client DE",
            "shortName": "Client DE",
            "valueType": "NUMBER",
            "aggregationType": "SUM",
            "domainType": "AGGREGATE",
        }
    )
    uid = created["response"]["uid"]
    dhis2.update_data_element(
        uid,
        {
            "name": "Client DE 2",
            "shortName": "Client DE",
            "valueType": "NUMBER",
            "aggregationType": "SUM",
            "domainType": "AGGREGATE",
        },
    )
    assert dhis2.get_data_element(uid)["name"] == "Client DE 2"
    dhis2.delete_data_element(uid)
    with pytest.raises(DHIS2HTTPError) as error:
        dhis2.get_data_element(uid)
    assert error.value.status_code == 404
    sets = list(dhis2.get_data_sets(fields="id,periodType"))  # type: ignore[no-untyped-call]
    assert sets == [{"id": DATA_SET, "periodType": "Monthly"}]
    assert (
        len(dhis2.get_data_set(DATA_SET, fields="id,organisationUnits")["organisationUnits"]) == 6
    )


def test_data_value_sets_single_values_and_analytics(dhis2: DHIS2Client) -> None:
    facility = FACILITIES[0]
    summary = dhis2.post_data_value_set(
        {
            "dataSet": DATA_SET,
            "orgUnit": facility,
            "period": "202403",
            "dataValues": [
                {"dataElement": ANC1, "categoryOptionCombo": COC, "value": "21"},
                {"dataElement": ANC4, "categoryOptionCombo": COC, "value": "9"},
            ],
        }
    )
    assert summary["response"]["importCount"]["imported"] == 2
    read = dhis2.get_data_value_set({"dataSet": DATA_SET, "orgUnit": facility, "period": "202403"})
    assert sorted(v["value"] for v in read["dataValues"]) == ["21", "9"]
    dhis2.set_data_value(ANC1, "202404", facility, 5, co=COC)
    assert dhis2.get_data_value(ANC1, "202404", facility, co=COC) == ["5"]  # type: ignore[comparison-overlap]
    dhis2.delete_data_value(ANC1, "202404", facility, co=COC)
    with pytest.raises(DHIS2HTTPError):
        dhis2.get_data_value(ANC1, "202404", facility, co=COC)
    with pytest.raises(DHIS2HTTPError) as conflict:
        dhis2.post_data_value_set(
            {
                "dataSet": DATA_SET,
                "orgUnit": facility,
                "period": "202403",
                "dataValues": [{"dataElement": ANC1, "value": "-4"}],
            }
        )
    assert conflict.value.status_code == 409 and "E7619" in str(conflict.value.payload)
    result = dhis2.get_analytics_data(dx=[ANC1, ANC4], pe="2024Q1", ou=ROOT)
    expected = [[ANC1, "2024Q1", ROOT, "21"], [ANC4, "2024Q1", ROOT, "9"]]
    assert sorted(result["rows"]) == sorted(expected)
    latest = dhis2.analytics_latest_period_for_level(ANC1, 4)
    assert latest["meta"]["periodType"] == "MONTHLY"
    assert latest["existing"]["id"] == "202403" and latest["next"]["id"] == "202404"
