"""SQLModel engine per service, the session dependency and the readiness probe."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Annotated, Any, cast

from fastapi import Depends, Request
from sqlalchemy import MetaData, event, inspect, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session, create_engine

from services.kernel.outage import database_unreachable


def libpq_url(url: str) -> str:
    """A SQLAlchemy PostgreSQL URL (`postgresql+psycopg://…`) as libpq takes it, for a psycopg
    connection of its own (the password kept)."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


class Database:
    """One service's database: its engine and the metadata of the tables it owns."""

    def __init__(self, url: str, metadata: MetaData | None = None) -> None:
        self.url = url
        self.metadata = metadata
        parsed = make_url(url)
        self.is_sqlite = parsed.get_backend_name() == "sqlite"
        kwargs: dict[str, Any] = {"pool_pre_ping": not self.is_sqlite}
        if self.is_sqlite:
            _bind_none_at_once()
            kwargs["connect_args"] = {"check_same_thread": False, "timeout": 30}
            if parsed.database and parsed.database != ":memory:":
                Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        else:
            kwargs["connect_args"] = {"connect_timeout": 3}
        self.engine: Engine = create_engine(url, **kwargs)
        if self.is_sqlite:
            event.listen(self.engine, "connect", _sqlite_pragmas)

    def create_all(self) -> None:
        """Create the missing tables, then refuse a database whose tables lack columns: the
        sandbox has no migrations, and such a database was made by an older version."""
        if self.metadata is None:
            return
        self.metadata.create_all(self.engine)
        missing = outdated_tables(self.engine, self.metadata)
        if missing:
            found = "; ".join(f"{table} lacks {', '.join(cols)}" for table, cols in missing.items())
            raise SchemaOutdated(
                f"The database at {self.engine.url.render_as_string(hide_password=True)} was "
                f"created by an older version of the sandbox ({found}). The sandbox does not "
                "migrate databases: remove it (`dpi reset`, or delete the data directory) and "
                "start again."
            )

    def ping(self) -> None:
        """Raise if the database cannot answer a trivial query."""
        with self.engine.connect() as conn:
            conn.execute(text("SELECT 1"))

    def session(self) -> Session:
        return _Session(self.engine, expire_on_commit=False)

    def dispose(self) -> None:
        self.engine.dispose()


class SchemaOutdated(RuntimeError):
    """The database's tables lack columns the service's models have."""


def outdated_tables(engine: Engine, metadata: MetaData) -> dict[str, list[str]]:
    """Per table of `metadata` already in the database, the model's columns it lacks (but those
    the service adds itself, named in the table's `info["migrated"]`)."""
    inspector = inspect(engine)
    missing: dict[str, list[str]] = {}
    for table in metadata.sorted_tables:
        present = {column["name"] for column in inspector.get_columns(table.name)}
        known = present | set(table.info.get("migrated", ()))
        lacking = [column.name for column in table.columns if column.name not in known]
        if lacking:
            missing[table.name] = lacking
    return missing


class _Session(Session):
    """A session whose closing never fails on a connection the server ended: what closing does
    is roll back, and the server did that already. (Raised after the answer had started, the
    error would cut the answer off, or turn a committed write into an error.)"""

    def close(self) -> None:
        try:
            super().close()
        except DBAPIError as exc:
            if not database_unreachable(exc):
                raise


def _bind_none_at_once() -> None:
    """pysqlite looks an adapter up for every None it binds: with none registered the look-up
    fails on its protocol type, an AttributeError raised and cleared each time (a third of a
    message-log record's insert, with its seven empty columns). Registered, None is found at once
    and bound as NULL all the same."""
    import sqlite3  # not loaded by a service on PostgreSQL

    null = cast("Callable[[None], None]", {}.get)  # a C callable: None for any value
    sqlite3.register_adapter(type(None), null)


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cursor = dbapi_conn.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def get_database(request: Request) -> Database:
    database: Database = request.app.state.kernel.database  # the kernel's own KernelState
    return database


def get_session(request: Request) -> Iterator[Session]:
    with get_database(request).session() as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]
DatabaseDep = Annotated[Database, Depends(get_database)]
