"""Settings of the mediator, read as `DPI_INTEROP_LAYER_<FIELD>`."""

from __future__ import annotations

import os
import re
import socket
from pathlib import Path
from typing import Literal

from pydantic import field_validator

from services.kernel.settings import ServiceSettings, load_settings

SERVICE = "interop_layer"

BodyMode = Literal["full", "metadata", "off"]
REPLICA_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")


class InteropSettings(ServiceSettings):
    """The mediator's own knobs; the kernel's settings (database, secret, admin key) come along."""

    service: str = SERVICE
    message_log_bodies: BodyMode = "metadata"
    message_log_body_limit: int = 65536
    max_forward_body_bytes: int = 32 * 1024 * 1024  # bodies forwarded to providers
    message_log_retention_days: float = 30.0
    message_log_flush_interval: float = 0.05
    message_log_commit_delay: float = 0.002
    message_log_anchor_interval: float = 1.0
    message_log_signature_interval: float = 0.1  # under load; at rest every batch is signed
    provider_connect_timeout: float = 2.0
    provider_read_timeout: float = 30.0
    forward_pool_size: int = 64
    buffer_limit: int = 65536
    catalogue_path: Path | None = None
    declared_subscriptions: bool = True  # create the topology's subscriptions at start
    push_max_attempts: int = 12  # with the default back-off, about 18 minutes of retries
    push_backoff_initial: float = 1.0
    push_backoff_max: float = 300.0
    push_poll_interval: float = 1.0
    push_timeout: float = 10.0
    # This process's message-log chain; empty: the pod's name on Kubernetes (stable for a
    # StatefulSet's pods), else `main` (the embedded sandbox, one process per database).
    replica: str = ""

    @field_validator("replica")
    @classmethod
    def _replica_name(cls, value: str) -> str:
        if value and not REPLICA_NAME.fullmatch(value):
            raise ValueError(
                "a replica name is 1-100 letters, digits, '.', '_' or '-', starting with a "
                "letter or digit"
            )
        return value

    def replica_id(self) -> str:
        """The replica whose chain this process writes."""
        if self.replica:
            return self.replica
        host = socket.gethostname()
        if os.environ.get("KUBERNETES_SERVICE_HOST") and REPLICA_NAME.fullmatch(host):
            return host
        return "main"

    def state_dir(self) -> Path:
        return self.data_dir / SERVICE


def load_interop_settings() -> InteropSettings:
    return load_settings(SERVICE, InteropSettings)
