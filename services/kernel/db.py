"""SQLModel engine per service, the session dependency and the readiness probe."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy import MetaData, event, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session, create_engine

from services.kernel.outage import database_unreachable


class Database:
    """One service's database: its engine and the metadata of the tables it owns."""

    def __init__(self, url: str, metadata: MetaData | None = None) -> None:
        self.url = url
        self.metadata = metadata
        parsed = make_url(url)
        self.is_sqlite = parsed.get_backend_name() == "sqlite"
        kwargs: dict[str, Any] = {"pool_pre_ping": not self.is_sqlite}
        if self.is_sqlite:
            kwargs["connect_args"] = {"check_same_thread": False, "timeout": 30}
            if parsed.database and parsed.database != ":memory:":
                Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        else:
            kwargs["connect_args"] = {"connect_timeout": 3}
        self.engine: Engine = create_engine(url, **kwargs)
        if self.is_sqlite:
            event.listen(self.engine, "connect", _sqlite_pragmas)

    def create_all(self) -> None:
        if self.metadata is not None:
            self.metadata.create_all(self.engine)

    def ping(self) -> None:
        """Raise if the database cannot answer a trivial query."""
        with self.engine.connect() as conn:
            conn.execute(text("SELECT 1"))

    def session(self) -> Session:
        return _Session(self.engine, expire_on_commit=False)

    def dispose(self) -> None:
        self.engine.dispose()


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
