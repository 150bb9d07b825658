"""Where the signing key is kept: the service's database, so every replica signs with one key.

The first process to need a key stores one (an earlier run's key file under the data dir, if
there is one, else a new key); processes that race for it all end up with the row stored first
(the key id is the primary key, and the oldest row wins). `POST /admin/reset` leaves the table.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path

from joserfc.jwk import ECKey
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from services.consent.receipts.keys import KEY_FILE, Signer
from services.consent.receipts.models import SigningKey
from services.kernel.db import Database
from services.kernel.time import utcnow

TABLE = SigningKey.__tablename__


def _stored(session: Session) -> Signer | None:
    row = session.exec(select(SigningKey).order_by(col(SigningKey.created_at), "kid")).first()
    return None if row is None else Signer(ECKey.import_key(row.private_jwk))


def load_or_create(session: Session, data_dir: Path) -> Signer:
    """The stored key; without one, the key file of a run before keys moved into the database
    (so its receipts still verify), or else a new key, is stored first."""
    signer = _stored(session)
    if signer is not None:
        return signer
    legacy = data_dir / KEY_FILE
    if legacy.exists():
        key = ECKey.import_key(json.loads(legacy.read_text(encoding="utf-8")))
    else:
        key = ECKey.generate_key("P-256", private=True)
    session.add(
        SigningKey(kid=key.thumbprint(), private_jwk=key.as_dict(private=True), created_at=utcnow())
    )
    try:
        session.commit()
    except IntegrityError:  # another replica stored its key first: read that one
        session.rollback()
    signer = _stored(session)
    if signer is None:
        raise RuntimeError("the consent signing key was stored but cannot be read back")
    return signer


class SignerHolder:
    """The key read once per process: at start when the database answers, else on first use."""

    def __init__(self, database: Database, data_dir: Path) -> None:
        self._database = database
        self._data_dir = data_dir
        self._lock = threading.Lock()
        self._signer: Signer | None = None

    def get(self) -> Signer:
        with self._lock:
            if self._signer is None:
                with self._database.session() as session:
                    self._signer = load_or_create(session, self._data_dir)
            return self._signer
