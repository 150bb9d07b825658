"""Read a run's exchanges from the mediator's message log admin API (over HTTP, admin key)."""

from __future__ import annotations

import os
from typing import Any

import httpx

from services.kernel.derived_keys import ADMIN_KEY_HEADER

RECORDS = "/admin/messagelog/records"


def fetch_records(
    base_url: str,
    trace_ids: list[str],
    *,
    admin_key: str | None = None,
    timeout: float = 10.0,
) -> tuple[list[dict[str, Any]], str]:
    """Every record of the given traces, and how the log answered (`ok` or why not)."""
    key = admin_key or os.environ.get("DPI_ADMIN_KEY", "dpi-admin")
    found: list[dict[str, Any]] = []
    try:
        with httpx.Client(base_url=base_url, timeout=timeout) as client:
            for trace_id in trace_ids:
                offset = 0
                while True:
                    response = client.get(
                        RECORDS,
                        params={"traceId": trace_id, "limit": 1000, "offset": offset},
                        headers={ADMIN_KEY_HEADER: key},
                    )
                    if response.status_code != 200:
                        return found, (
                            f"unavailable (GET {RECORDS} answered {response.status_code})"
                        )
                    page = response.json().get("records", [])
                    found += page
                    if len(page) < 1000:
                        break
                    offset += len(page)
    except httpx.HTTPError as exc:
        return found, f"unavailable ({type(exc).__name__}: {exc})"
    return found, "ok"
