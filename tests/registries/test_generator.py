"""The fictional country is generated deterministically; the pilot is a slice of the national."""

from __future__ import annotations

from collections import Counter

import pytest

from services.registries.facilities.generator import generate, size_for


def test_sizes_and_hierarchy():
    pilot = generate(size_for("pilot"))
    assert Counter(p["level"] for p in pilot) == {
        "country": 1,
        "region": 1,
        "district": 2,
        "facility": 6,
    }
    national = generate(size_for("national"))
    levels = Counter(p["level"] for p in national)
    assert levels == {"country": 1, "region": 10, "district": 100, "facility": 10_000}
    ids = {p["id"] for p in national}
    assert len(ids) == len(national)
    assert all(p["parent_id"] in ids for p in national if p["level"] != "country")
    assert generate(size_for("none")) == []
    with pytest.raises(ValueError, match="unknown"):
        size_for("galactic")


def test_stable_codes_names_and_coordinates():
    national = {p["id"]: p for p in generate(size_for("national"))}
    assert all(national[p["id"]] == p for p in generate(size_for("pilot")))
    assert generate(size_for("national")) == list(national.values())
    other_seed = {p["id"]: p for p in generate(size_for("pilot"), seed=7)}
    assert other_seed["XD-R01-D01-F002"]["name"] != national["XD-R01-D01-F002"]["name"]
    for place in national.values():
        assert -4 <= place["latitude"] <= 4 and 29 <= place["longitude"] <= 39
    district = national["XD-R03-D04"]
    facility = national["XD-R03-D04-F050"]
    assert abs(facility["latitude"] - district["latitude"]) < 1
    assert abs(facility["longitude"] - district["longitude"]) < 2
