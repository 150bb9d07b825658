"""Keeps data values consistent with metadata: moved org units, deletions of used objects."""

from __future__ import annotations

from sqlalchemy import bindparam, select, update
from sqlalchemy.engine import Engine
from sqlmodel import Session

from services.sectoral_platform.aggregate.models import DataValue
from services.sectoral_platform.aggregate.rollup import rebuild
from services.sectoral_platform.base import table_of
from services.sectoral_platform.metadata.store import MetadataStore

T = table_of(DataValue)


def install_hooks(store: MetadataStore, engine: Engine) -> None:
    def moved(session: Session, paths: dict[str, str]) -> None:
        stmt = update(T).where(T.c.ou == bindparam("k_ou")).values(ou_path=bindparam("new_path"))
        connection = session.connection()
        connection.execute(stmt, [{"k_ou": ou, "new_path": path} for ou, path in paths.items()])
        rebuild(connection)

    def in_use(uid: str) -> str | None:
        with engine.connect() as conn:
            for column in (T.c.ou, T.c.de, T.c.co, T.c.ao):
                if conn.execute(select(column).where(column == uid).limit(1)).first():
                    return "data values"
        return None

    store.path_listeners.append(moved)
    store.delete_guards.append(in_use)
