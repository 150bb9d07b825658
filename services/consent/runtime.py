"""What the running consent service keeps, built at start-up and read through `RuntimeDep`."""

from __future__ import annotations

from dataclasses import dataclass

from services.consent.decisions.log import DecisionLog
from services.consent.receipts.keystore import SignerHolder
from services.consent.settings import ConsentSettings
from services.kernel.db import Database


@dataclass(slots=True)
class ConsentRuntime:
    settings: ConsentSettings
    database: Database
    # Signs receipts and consent records; the key is kept in the database, one for all replicas.
    keys: SignerHolder
    # Decisions are logged by group commit: every caller waits for its own entry to be durable.
    decision_log: DecisionLog
