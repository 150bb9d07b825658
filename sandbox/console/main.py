"""The console app as the launcher serves it (configured from the sandbox's environment)."""

from __future__ import annotations

from sandbox.console.app import create_app
from sandbox.console.config import config_from_env

app = create_app(config_from_env())
