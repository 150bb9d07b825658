"""The launcher's error: something the user must fix before (or after) the sandbox can run."""

from __future__ import annotations


class LaunchError(Exception):
    """Something the user must fix before (or after) the sandbox can run; the message says what."""
