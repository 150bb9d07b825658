"""Namespaces reserved by installed apps (DHIS2: RESTRICTED reads and writes)."""

from __future__ import annotations

import orjson
from sqlalchemy import delete
from sqlmodel import Session, col, select

from services.sectoral_platform.datastore.models import DatastoreEntry, NamespaceProtection


def reserved_by(session: Session, namespace: str) -> str | None:
    row = session.get(NamespaceProtection, namespace)
    return None if row is None else row.app_key


def protect(session: Session, namespace: str, app_key: str, authorities: list[str]) -> None:
    row = session.get(NamespaceProtection, namespace) or NamespaceProtection(
        namespace=namespace, app_key=app_key, authorities="[]"
    )
    row.app_key, row.authorities = app_key, orjson.dumps(sorted(authorities)).decode()
    session.add(row)


def release(session: Session, app_key: str, *, delete_data: bool) -> list[str]:
    """Drop the app's reservations (and, if asked, its namespaces' entries); their names."""
    rows = session.exec(select(NamespaceProtection).where(NamespaceProtection.app_key == app_key))
    names = [row.namespace for row in rows.all()]
    for name in names:
        row = session.get(NamespaceProtection, name)
        session.delete(row)
        if delete_data:
            shared = (col(DatastoreEntry.namespace) == name, col(DatastoreEntry.owner) == "")
            session.execute(delete(DatastoreEntry).where(*shared))
    return names
