"""Installed apps in the database: one row per app, one per file; a reinstall replaces both."""

from __future__ import annotations

from typing import Any

import orjson
from sqlalchemy import delete
from sqlmodel import Session, col, select

from services.sectoral_platform.apps.models import AppFile, InstalledApp


def manifests(session: Session) -> list[dict[str, Any]]:
    rows = session.exec(select(InstalledApp).order_by(col(InstalledApp.key))).all()
    return [{**orjson.loads(row.manifest), "key": row.key} for row in rows]


def manifest(session: Session, key: str) -> dict[str, Any] | None:
    row = session.get(InstalledApp, key)
    return None if row is None else {**orjson.loads(row.manifest), "key": row.key}


def file(session: Session, key: str, path: str) -> bytes | None:
    row = session.get(AppFile, (key, path))
    return None if row is None else row.content


def replace(
    session: Session, key: str, manifest: dict[str, Any], files: dict[str, bytes], now: str
) -> None:
    remove(session, key)
    size = sum(len(content) for content in files.values())
    text = orjson.dumps(manifest).decode()
    session.add(InstalledApp(key=key, manifest=text, installed=now, size=size))
    session.add_all(AppFile(app_key=key, path=p, content=c) for p, c in files.items())


def remove(session: Session, key: str) -> bool:
    existed = session.get(InstalledApp, key) is not None
    session.execute(delete(AppFile).where(col(AppFile.app_key) == key))
    session.execute(delete(InstalledApp).where(col(InstalledApp.key) == key))
    return existed
