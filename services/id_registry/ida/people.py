"""The IDA hot path's cache of identities, by UIN and by id, read through `store`'s statements."""

from __future__ import annotations

import threading
from typing import Any

from services.id_registry.ida.store import Hot, Person
from services.kernel.invalidation import SharedCache


class PersonCache(SharedCache):
    """Identities by UIN and by id, emptied whenever an identity changes in this process.

    A generation counter keeps a read that raced with a change from caching the old row.
    """

    def __init__(self, limit: int = 100_000) -> None:
        self.limit = limit
        self.generation = 0
        self._lock = threading.Lock()  # a drop between `_keep`'s check and its store
        self._by_uin: dict[str, Person] = {}
        self._by_id: dict[int, Person] = {}

    def drop(self) -> None:
        with self._lock:
            self.generation += 1
            self._by_uin = {}
            self._by_id = {}

    def _keep(self, row: list[Any] | None, generation: int) -> Person | None:
        if row is None:
            return None
        person = Person(*row)
        with self._lock:
            if generation == self.generation:
                if len(self._by_id) >= self.limit:  # full: room, not an invalidation
                    self._by_uin, self._by_id = {}, {}
                self._by_uin[person.uin] = person
                self._by_id[person.id] = person
        return person

    def cached(self, uin: str) -> bool:
        return uin in self._by_uin

    def by_uin(self, hot: Hot, uin: str) -> Person | None:
        found = self._by_uin.get(uin)
        if found is not None:
            return found
        if hot.known is not None and uin in hot.known:
            return hot.known[uin]
        generation = self.generation
        return self._keep(hot.sql.identity_by_uin.first(hot.db, {"p_uin": uin}), generation)

    def wanted(self, uins: list[str]) -> list[str]:
        """Those of `uins` not cached, each once."""
        by_uin = self._by_uin
        return list(dict.fromkeys(uin for uin in uins if uin not in by_uin))

    def keep_all(
        self, rows: list[list[Any]], wanted: list[str], generation: int
    ) -> dict[str, Person | None]:
        """The people of `rows` (read for `wanted` while at `generation`), cached; None for
        each of `wanted` not among them."""
        known: dict[str, Person | None] = dict.fromkeys(wanted)
        for row in rows:
            person = self._keep(row, generation)
            if person is not None:
                known[person.uin] = person
        return known

    def prefetch(self, hot: Hot, uins: list[str]) -> dict[str, Person | None]:
        """Read the people of `uins` not cached yet in one statement (PostgreSQL only)."""
        statement = hot.sql.identities_by_uin
        wanted = self.wanted(uins)
        if statement is None or not wanted:
            return {}
        generation = self.generation
        return self.keep_all(statement.all(hot.db, {"p_uins": wanted}), wanted, generation)

    def by_id(self, hot: Hot, identity_id: int) -> Person | None:
        found = self._by_id.get(identity_id)
        if found is not None:
            return found
        generation = self.generation
        return self._keep(hot.sql.identity_by_id.first(hot.db, {"p_id": identity_id}), generation)
