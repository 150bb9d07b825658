"""A request path cannot forge an access-log line: control characters are re-encoded."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from services.kernel.app import create_service_app
from services.kernel.logs import configure_logging
from services.kernel.testing import serve_in_process
from tests.kernel.logging_support import restore_logging  # noqa: F401  (autouse fixture)

# Decoded by the server into a newline, then a fake access line and an ANSI clear-screen.
FORGED = "/hello/x%0A2026-01-01 00:00:00,000 INFO consent dpi.access: GET /admin 200%1B[2J"


@pytest.mark.anyio
@pytest.mark.parametrize("fmt", ["text", "json"])
async def test_access_log_path_cannot_forge_a_line(
    fmt: str, settings_for: Callable[..., Any], capsys: pytest.CaptureFixture[str]
) -> None:
    app = create_service_app(settings=settings_for("consent"), configure_logs=False)
    configure_logging("consent", fmt=fmt)
    async with serve_in_process(app) as client:
        capsys.readouterr()
        response = await client.get(FORGED)
        assert response.status_code == 404
    lines = [line for line in capsys.readouterr().err.splitlines() if "dpi.access" in line]
    assert len(lines) == 1, lines
    line = lines[0]
    assert "\x1b" not in line
    if fmt == "json":
        entry = json.loads(line)
        assert entry["path"] == FORGED
        assert entry["msg"] == f"GET {FORGED} 404"
    else:
        assert f"GET {FORGED} 404" in line
