"""Our OpenAPI against the GovStack Digital Registries Data API file in the shared contracts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from services.registries.main import create_app
from services.registries.settings import RegistriesSettings

CONTRACT = (
    Path(__file__).resolve().parents[2]
    / ".."
    / "shared"
    / "contracts"
    / "govstack"
    / "registries-data-openapi.yaml"
)
METHODS = ("get", "post", "put", "delete", "patch")


@pytest.fixture(scope="module")
def contract() -> dict[str, Any]:
    if not CONTRACT.exists():
        pytest.skip(f"shared contracts not present at {CONTRACT.resolve()}")
    loaded: dict[str, Any] = yaml.safe_load(CONTRACT.read_text(encoding="utf-8"))
    return loaded


@pytest.fixture(scope="module")
def ours(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    settings = RegistriesSettings(data_dir=tmp_path_factory.mktemp("contract"))
    schema: dict[str, Any] = create_app(settings).openapi()
    return schema


def operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (path, method, item[method])
        for path, item in document["paths"].items()
        for method in METHODS
        if method in item
    ]


def test_every_contract_operation_exists_with_its_success_status(contract, ours):
    for path, method, operation in operations(contract):
        assert path in ours["paths"], f"missing {method.upper()} {path}"
        mine = ours["paths"][path].get(method)
        assert mine is not None, f"missing {method.upper()} {path}"
        wanted = {code for code in operation["responses"] if code.startswith("2")}
        assert wanted <= set(mine["responses"]), (path, method, wanted, mine["responses"])


def test_headers_and_query_parameters_match(contract, ours):
    for path, method, operation in operations(contract):
        mine = {
            (p["in"], p["name"].lower()): p
            for p in ours["paths"][path][method].get("parameters", [])
        }
        assert ("header", "information-mediator-client") in mine, (method, path)
        for param in operation.get("parameters", []):
            if "$ref" in param or param["name"].startswith("query."):
                continue
            key = (param["in"], param["name"].lower())
            assert key in mine, f"{method.upper()} {path} lacks {key}"
            assert mine[key].get("required", False) == param.get("required", False), key
    assert contract["components"]["securitySchemes"]["apiKey"]["name"] == "Authorization"
