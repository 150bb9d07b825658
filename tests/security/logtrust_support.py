"""A real mediator's message log to tamper with, and the forger's tools.

The forger can write the database and, in the strongest cases, holds the mediator's own signing
key (read from the data directory); only the pinned trust files are beyond reach.
"""

from __future__ import annotations

import asyncio
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import yaml
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Table, delete, insert, select, text
from sqlmodel import Session, col
from sqlmodel import select as sql_select

from services.interop_layer.main import create_app
from services.interop_layer.messagelog.chain import (
    key_id_of,
    load_or_create_key,
    mark_message,
    public_pem,
    record_digest,
    sign,
)
from services.interop_layer.messagelog.models import LogKey, LogMark, LogRecord
from services.interop_layer.settings import InteropSettings
from services.kernel.credentials import client_key
from services.kernel.db import Database
from services.kernel.testing import serve_in_process

HEALTH = "DPI/GOV/MOH/hmis"
REGISTRIES = "DPI/GOV/CRVS/registries"
TABLES: list[Table] = [
    LogRecord.__table__,  # type: ignore[attr-defined]
    LogMark.__table__,  # type: ignore[attr-defined]
    LogKey.__table__,  # type: ignore[attr-defined]
]


@dataclass
class PristineLog:
    """Eight exchanges written by a real mediator, its trust files, and a snapshot to restore."""

    url: str
    data_dir: Path
    key: Ed25519PrivateKey  # the mediator's own key, as a thief would find it
    old_head: Path  # a genuine head anchor from when the log had four records
    served_keys: dict[str, Any]
    snapshot: dict[str, list[dict[str, Any]]]

    @property
    def trust(self) -> Path:
        return self.data_dir / "interop_layer" / "trust"

    def restore(self) -> None:
        database = Database(self.url)
        with database.engine.begin() as connection:
            for table in TABLES:
                connection.execute(delete(table))
                if self.snapshot[table.name]:
                    connection.execute(insert(table), self.snapshot[table.name])
        database.dispose()


def mediator_settings(url: str, data_dir: Path) -> InteropSettings:
    catalogue = data_dir / "catalogue.yaml"
    catalogue.write_text(
        yaml.safe_dump(
            {
                "services": [
                    {"provider": REGISTRIES, "serviceCode": "down", "baseUrl": "http://127.0.0.1:9"}
                ],
                "rights": [{"client": HEALTH, "provider": REGISTRIES, "serviceCode": "down"}],
            }
        )
    )
    return InteropSettings(
        database_url=url,
        data_dir=data_dir,
        log_format="text",
        catalogue_path=catalogue,
        provider_connect_timeout=0.2,
        message_log_anchor_interval=0.0,  # a head anchor after every batch
        message_log_signature_interval=0.0,  # and a signed record
    )


async def _exchanges(client: httpx.AsyncClient, n: int) -> None:
    """Logged exchanges: calls to a provider that is down and refusals (both 500, PR-REST)."""
    headers = {"X-Road-Client": HEALTH, "X-DPI-Client-Key": client_key(HEALTH)}
    for i in range(n):
        good = i % 2 == 0
        sent = headers if good else {"X-Road-Client": HEALTH}
        response = await client.get(f"/r1/{REGISTRIES}/down/item/{i}", headers=sent)
        kind = "NetworkError" if good else "SslAuthenticationFailed"
        assert response.status_code == 500 and response.headers["x-road-error"].endswith(kind)


def make_pristine(url: str, data_dir: Path) -> PristineLog:
    data_dir.mkdir(parents=True, exist_ok=True)
    settings = mediator_settings(url, data_dir)
    trust = data_dir / "interop_layer" / "trust"
    old_head = data_dir.parent / "old-head.json"

    async def run() -> dict[str, Any]:
        async with serve_in_process(create_app(settings)) as client:
            await _exchanges(client, 4)
            shutil.copy(trust / "head.json", old_head)
            await _exchanges(client, 4)
            served = await client.get("/messagelog/keys")
            assert served.status_code == 200
            return dict(served.json())

    served_keys = asyncio.run(run())
    database = Database(url)
    with database.engine.connect() as connection:
        snapshot = {
            table.name: [dict(row) for row in connection.execute(select(table)).mappings()]
            for table in TABLES
        }
    database.dispose()
    assert len(snapshot["im_log_record"]) == 8
    key = load_or_create_key(settings.state_dir() / "messagelog.pem")
    return PristineLog(url, data_dir, key, old_head, served_keys, snapshot)


class Forger:
    """Database-level tampering: edit, delete, insert, re-hash and re-sign."""

    def __init__(self, url: str) -> None:
        self.database = Database(url)

    def close(self) -> None:
        self.database.dispose()

    def sql(self, statement: str, **params: Any) -> None:
        with self.database.engine.begin() as connection:
            connection.execute(text(statement), params)

    def add_key(self, key: Ed25519PrivateKey, *, key_id: str | None = None) -> str:
        pem = public_pem(key)
        key_id = key_id or key_id_of(pem)
        with self.database.session() as session:
            stored = session.get(LogKey, key_id)
            if stored is None:
                session.add(LogKey(key_id=key_id, public_key=pem))
            else:
                stored.public_key = pem
                session.add(stored)
            session.commit()
        return key_id

    def rechain(self, key: Ed25519PrivateKey, key_id: str, *, sign_records: bool = True) -> None:
        """Recompute every hash and link, sign every record and the head as `key_id`."""
        with Session(self.database.engine) as session:
            rows = session.exec(sql_select(LogRecord).order_by(col(LogRecord.seq))).all()
            prev = "0" * 64
            for row in rows:
                row.key_id = key_id
                row.prev_hash = prev
                row.record_hash = prev = record_digest(prev, row.model_dump())
                row.signature = sign(key, prev.encode()) if sign_records else row.signature
                session.add(row)
            self._sign_head(session, key, key_id, rows[-1].seq if rows else 0, prev)
            session.commit()

    def resign_head(self, key: Ed25519PrivateKey, key_id: str) -> None:
        """Point the signed head at the last remaining record (what a truncating forger does)."""
        with Session(self.database.engine) as session:
            last = session.exec(
                sql_select(LogRecord).order_by(col(LogRecord.seq).desc()).limit(1)
            ).first()
            seq, digest = (last.seq, last.record_hash) if last else (0, "0" * 64)
            self._sign_head(session, key, key_id, seq, digest)
            session.commit()

    @staticmethod
    def _sign_head(
        session: Session, key: Ed25519PrivateKey, key_id: str, seq: int, digest: str
    ) -> None:
        head = session.get(LogMark, "head") or LogMark(
            name="head", seq=0, record_hash="", key_id="", signature=""
        )
        head.seq, head.record_hash, head.key_id = seq, digest, key_id
        head.signature = sign(key, mark_message("head", seq, digest))
        session.add(head)
