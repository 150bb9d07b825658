"""The ID system's cache of identities: a row read before a change is never kept after it, and
a full cache makes room without turning reads in flight away."""

from __future__ import annotations

from datetime import date
from typing import Any

from services.id_registry.ida.people import PersonCache


def row(identity_id: int, status: str = "ACTIVATED") -> list[Any]:
    return [identity_id, f"{identity_id:010d}", "Ada", "Lovelace", date(1990, 1, 31), "female",
            None, None, None, "eng", status, False]  # fmt: skip


def test_a_row_read_before_a_drop_is_answered_but_not_kept() -> None:
    cache = PersonCache()
    generation = cache.generation  # a read begins
    cache.drop()  # the identity changes meanwhile
    person = cache._keep(row(1, "DEACTIVATED"), generation)
    assert person is not None and person.status == "DEACTIVATED"
    assert not cache.cached(person.uin)
    fresh = cache._keep(row(1), cache.generation)
    assert fresh is not None and cache.cached(fresh.uin)


def test_a_full_cache_makes_room_and_still_keeps_the_read_in_flight() -> None:
    cache = PersonCache(limit=2)
    generation = cache.generation
    for identity_id in (1, 2, 3):
        cache._keep(row(identity_id), generation)
    assert cache.generation == generation  # room made, nothing invalidated
    assert cache.cached(f"{3:010d}") and not cache.cached(f"{1:010d}")
