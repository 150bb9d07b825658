"""Matchers over collections: `each`, `any_of`, `at_least`, `no_keys` (as in open data checks)."""

from pathlib import Path
from typing import Any

import pytest

from sandbox.scenarios.checks import check_response, keys_named
from sandbox.scenarios.loader import ScenarioError, parse_scenario
from sandbox.scenarios.model import Expect

PUBLICATION: dict[str, Any] = {
    "threshold": 5,
    "rows": [
        {"orgUnit": "a", "value": None, "suppressed": True},
        {"orgUnit": "b", "value": 0, "suppressed": False},
        {"orgUnit": "c", "value": 12, "suppressed": False},
    ],
    "totals": [{"orgUnit": "d", "value": "17"}],
}
PUBLISHED = {"any_of": [None, 0, {"at_least": "${threshold}"}]}


def failures(expect: dict[str, Any], body: Any = PUBLICATION) -> list[str]:
    return check_response(
        Expect.model_validate({"json": expect}),
        status=200,
        headers={},
        body=body,
        variables={"threshold": 5},
    )


def test_every_value_null_zero_or_at_least_the_threshold() -> None:
    assert failures({"rows[*].value": {"each": PUBLISHED}}) == []
    leaking = {**PUBLICATION, "rows": [*PUBLICATION["rows"], {"orgUnit": "e", "value": 3}]}
    found = failures({"rows[*].value": {"each": PUBLISHED}}, leaking)
    assert len(found) == 1
    assert found[0].startswith("json rows[*].value[3]: expected any of [")
    assert found[0].endswith("got 3")


def test_at_least_compares_numbers_and_numeric_text() -> None:
    assert failures({"totals[0].value": {"at_least": 17}, "threshold": {"at_least": 4.5}}) == []
    assert failures({"rows[2].value": {"at_least": 13}}) == [
        "json rows[2].value: expected at least 13, got 12"
    ]
    assert failures({"rows[0].value": {"at_least": 0}}) == [
        "json rows[0].value: expected at least 0, got null"
    ]


def test_each_needs_a_list_and_reports_at_most_five_elements() -> None:
    assert failures({"threshold": {"each": 5}}) == [
        "json threshold: expected a list whose every element matches, got 5"
    ]
    found = failures({"values": {"each": {"at_least": 100}}}, {"values": list(range(8))})
    assert found[:1] == ["json values[0]: expected at least 100, got 0"]
    assert found[-1] == "... and 3 more" and len(found) == 6
    assert failures({"rows[*].suppressed": {"each": {"regex": "^(True|False)$"}}}) == []


def test_no_keys_searches_the_whole_document_ignoring_case_and_separators() -> None:
    assert failures({"$": {"no_keys": ["trackedEntity", "enrollment", "uin"]}}) == []
    person = {**PUBLICATION, "rows": [{"value": 1, "tracked_entity": "x", "UIN": "1234"}]}
    assert failures({"$": {"no_keys": ["trackedEntity", "uin"]}}, person) == [
        'json $: expected no keys ["trackedEntity", "uin"], got rows[0].tracked_entity, rows[0].UIN'
    ]
    assert failures({"rows": {"no_keys": "orgUnit"}}) != []
    assert keys_named({"a": [{"b": {"Token": 1}}]}, ["token"]) == ["a[0].b.Token"]


def test_a_scenario_file_may_use_the_new_matchers_and_is_checked_when_loaded() -> None:
    text = """
title: Open data
pattern: Open data
summary: s
description: d
vars: {threshold: 5}
steps:
  - title: read
    actor: Anyone
    boundary: public → platform
    request: {service: sectoral_platform, path: /api/openData/publications}
    expect:
      json:
        $: {no_keys: [trackedEntity]}
        rows[*].value: {each: {any_of: [null, 0, {at_least: "${threshold}"}]}}
"""
    scenario = parse_scenario(Path("open.yaml"), text)
    assert set(scenario.steps[0].expect.json_) == {"$", "rows[*].value"}
    with pytest.raises(ScenarioError, match="at_least: a number or"):
        parse_scenario(Path("bad.yaml"), text.replace('"${threshold}"', "many"))
    with pytest.raises(ScenarioError, match=r"uses \$\{limit\} before any step saves it"):
        parse_scenario(Path("bad.yaml"), text.replace("${threshold}", "${limit}"))
