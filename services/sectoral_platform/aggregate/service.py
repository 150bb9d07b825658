"""Data value set import: per-row validation with indexed conflicts, bulk writes, ImportSummary."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from services.kernel.time import dhis2_timestamp as timestamp
from services.sectoral_platform.aggregate import rollup, writes
from services.sectoral_platform.aggregate.context import ImportContext
from services.sectoral_platform.aggregate.summary import (
    Conflict,
    ImportCount,
    ImportOptions,
    ImportSummary,
    Strategy,
)
from services.sectoral_platform.aggregate.validation import Conflicts, Key, Row, RowValidator
from services.sectoral_platform.aggregate.writes import KeyParams, UpdateParams
from services.sectoral_platform.auth.scope import Scope
from services.sectoral_platform.errors import bad_request
from services.sectoral_platform.metadata.store import MetadataStore


@dataclass(slots=True)
class _Plan:
    """The statements one import will run, and what they do to the counts and the rollup."""

    strategy: Strategy
    username: str
    count: ImportCount
    now: str = field(default_factory=timestamp)
    inserts: list[tuple[Any, ...]] = field(default_factory=list)
    updates: list[UpdateParams] = field(default_factory=list)
    deletes: list[KeyParams] = field(default_factory=list)
    delta: rollup.Delta = field(default_factory=rollup.new_delta)

    def add(self, key: Key, row: Row, old: tuple[Any, ...] | None) -> None:
        if self.strategy == "DELETE" or (row.value in (None, "") and row.comment is None):
            self._delete(key, old)
        elif row.deleted:
            self._marked_deleted(key, old)
        elif old is None:
            self._insert(key, row)
        elif self.strategy == "CREATE":
            self.count.ignored += 1
        else:
            self._update(key, row, old)

    def _delete(self, key: Key, old: tuple[Any, ...] | None) -> None:
        if old is None:
            self.count.ignored += 1
            return
        self.deletes.append(_key_params(key))
        rollup.add(self.delta, (key[0], key[1], key[3], old[4]), old[3], -1)
        self.count.deleted += 1

    def _marked_deleted(self, key: Key, old: tuple[Any, ...] | None) -> None:
        """A value sent with `deleted: true`, which DHIS2 saves soft-deleted: an existing value is
        deleted unless the strategy only creates; a new one counts as imported and, being deleted,
        is not written (the sandbox keeps no soft-deleted values)."""
        if old is None:
            if self.strategy == "UPDATE":
                self.count.ignored += 1
            else:
                self.count.imported += 1
        elif self.strategy == "CREATE":
            self.count.ignored += 1
        else:
            self._delete(key, old)

    def _insert(self, key: Key, row: Row) -> None:
        if self.strategy == "UPDATE" or row.value is None:
            self.count.ignored += 1
            return
        self.inserts.append(
            (*key, row.value, row.comment, row.followup, row.path, row.pe_start, row.pe_end,
             row.num, row.stored_by or self.username, self.now, self.now)
        )  # fmt: skip
        rollup.add(self.delta, (key[0], key[1], key[3], row.path), row.num, 1)
        self.count.imported += 1

    def _update(self, key: Key, row: Row, old: tuple[Any, ...]) -> None:
        if (row.value, row.comment, row.followup) != old[:3]:
            rollup.add(self.delta, (key[0], key[1], key[3], old[4]), old[3], -1)
            rollup.add(self.delta, (key[0], key[1], key[3], row.path), row.num, 1)
            self.updates.append(
                UpdateParams(
                    **_key_params(key),
                    value=row.value,
                    comment=row.comment,
                    followup=row.followup,
                    num=row.num,
                    stored_by=row.stored_by or self.username,
                    last_updated=self.now,
                )
            )
        self.count.updated += 1


def _key_params(key: Key) -> KeyParams:
    return KeyParams(k_de=key[0], k_pe=key[1], k_ou=key[2], k_co=key[3], k_ao=key[4])


def _data_values(body: dict[str, Any]) -> list[Any]:
    values = body.get("dataValues")
    if values is None:
        return []
    if not isinstance(values, list):
        raise bad_request("JSON parse error: `dataValues` must be a list")
    return values


def _unknown_data_set(ctx: ImportContext, body: dict[str, Any], summary: ImportSummary) -> bool:
    """A named data set that does not exist or is not accessible fails the whole import."""
    ds = body.get("dataSet")
    if not ds or ctx.data_set(str(ds)) is not None:
        return False
    summary.status = "ERROR"
    summary.description = f"Data set not found or not accessible: `{ds}`"
    summary.conflicts = [
        Conflict(
            object=ds,
            objects={"dataSet": ds},
            value=summary.description,
            errorCode="E7600",
            property="dataSet",
            indexes=[],
        )
    ]
    return True


def _validate(validator: RowValidator, values: list[Any], conflicts: Conflicts) -> dict[Key, Row]:
    rows: dict[Key, Row] = {}
    for index, raw in enumerate(values):
        row = validator.validate(index, raw, conflicts)
        if row is not None:
            rows[row.key] = row  # a later duplicate wins, as in DHIS2
    return rows


def _summarise(summary: ImportSummary, conflicts: Conflicts) -> ImportSummary:
    if conflicts.entries:
        summary.status = "WARNING"
        summary.conflicts = conflicts.as_list()
        summary.rejected_indexes = sorted(conflicts.rejected)
    return summary


@dataclass(slots=True)
class Checked:
    """A batch parsed and checked, its stored values not yet looked up nor anything written:
    what the service does while PostgreSQL writes the batch before it."""

    summary: ImportSummary
    conflicts: Conflicts
    rows: dict[Key, Row] | None  # None: nothing to write (the data set is unknown)
    ignored: int = 0
    username: str = ""


def check_data_values(
    *,
    store: MetadataStore,
    scope: Scope,
    body: dict[str, Any],
    options: ImportOptions,
    today: date | None = None,
) -> Checked:
    """The rows of `body` that pass the checks (a later duplicate key wins) and the conflicts."""
    values = _data_values(body)
    ctx = ImportContext(store, today or date.today())
    summary = ImportSummary(options=options)
    conflicts = Conflicts()
    if _unknown_data_set(ctx, body, summary):
        summary.count.ignored = len(values)
        return Checked(summary, conflicts, None)
    validator = RowValidator(ctx, scope, body, options.strategy == "DELETE")
    rows = _validate(validator, values, conflicts)
    return Checked(summary, conflicts, rows, len(values) - len(rows), scope.user.username)


@dataclass(slots=True)
class Guess:
    """Whether an import's batches are still taken to be new values (`write_checked`)."""

    new: bool = True


def _write_once(
    engine: Engine, checked: Checked, options: ImportOptions, guess_new: bool
) -> ImportSummary:
    summary, rows = checked.summary, checked.rows
    if rows is None:
        return summary
    summary.count = ImportCount(ignored=checked.ignored)  # afresh on a retry
    plan = _Plan(strategy=options.strategy, username=checked.username, count=summary.count)
    if engine.dialect.name != "postgresql":
        # SQLite: the lookup outside the write transaction, whose lock serialises writers
        with engine.connect() as conn:
            _plan(plan, rows, writes.existing(conn, list(rows)))
        if not options.dry_run:
            with engine.begin() as conn:
                writes.write(conn, plan.inserts, plan.updates, plan.deletes, plan.delta)
        return _summarise(summary, checked.conflicts)
    with engine.begin() as conn:  # one connection and transaction: lookup, then the writes
        if guess_new and not options.dry_run and options.strategy != "DELETE":
            _plan(plan, rows, {})
            if len(plan.inserts) == len(rows):
                # every row a new value were none stored: no lookup, and a stored one makes the
                # COPY fail on the primary key, which `write_checked` retries with the lookup
                writes.write(conn, plan.inserts, plan.updates, plan.deletes, plan.delta)
                return _summarise(summary, checked.conflicts)
            summary.count = ImportCount(ignored=checked.ignored)
            plan = _Plan(strategy=options.strategy, username=checked.username, count=summary.count)
        _plan(plan, rows, writes.existing(conn, list(rows)))
        if not options.dry_run:
            writes.write(conn, plan.inserts, plan.updates, plan.deletes, plan.delta)
    return _summarise(summary, checked.conflicts)


def _plan(plan: _Plan, rows: dict[Key, Row], existing: dict[Key, writes.Old]) -> None:
    for key, row in rows.items():
        plan.add(key, row, existing.get(key))


def write_checked(
    *, engine: Engine, checked: Checked, options: ImportOptions, guess: Guess | None = None
) -> ImportSummary:
    """Look up the stored values of a checked batch and write it, in one transaction; a
    concurrent import that inserted the same keys first makes it roll back, and the retry then
    counts those rows as updates. With `guess` (one for the batches of an import), a batch of new
    values only is written without the lookup until a batch finds a value stored: a national
    file of a new month is, and then every later batch of the import looks up first."""
    duplicate = (IntegrityError, engine.dialect.loaded_dbapi.IntegrityError)
    attempt = 0
    while True:
        guessed = guess is not None and guess.new
        try:
            return _write_once(engine, checked, options, guessed)
        except duplicate:
            if guess is not None and guessed:
                guess.new = False
                continue
            attempt += 1
            if attempt == 5:
                raise


def import_data_values(
    *,
    engine: Engine,
    store: MetadataStore,
    scope: Scope,
    body: dict[str, Any],
    options: ImportOptions | None = None,
    today: date | None = None,
) -> ImportSummary:
    """Import a data value set: checked, then written (`write_checked`)."""
    options = options or ImportOptions()
    checked = check_data_values(store=store, scope=scope, body=body, options=options, today=today)
    return write_checked(engine=engine, checked=checked, options=options)
