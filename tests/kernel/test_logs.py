"""The kernel's log lines: JSON and text without terminal colours or uvicorn's `color_message`."""

from __future__ import annotations

import json
import logging

import pytest

from services.kernel.logs import configure_logging
from tests.kernel.logging_support import restore_logging  # noqa: F401  (autouse fixture)


def emit_uvicorn_style() -> None:
    """What uvicorn logs at start-up: the plain message plus a coloured copy for terminals."""
    logging.getLogger("uvicorn.error").info(
        "Uvicorn running on %s (Press CTRL+C to quit)",
        "http://127.0.0.1:8000",
        extra={"color_message": "Uvicorn running on \x1b[1m%s\x1b[0m (Press CTRL+C to quit)"},
    )


def test_json_logs_drop_color_message_and_ansi(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("consent", fmt="json")
    emit_uvicorn_style()
    logging.getLogger("uvicorn.error").warning("\x1b[31mred\x1b[0m alert", extra={"x": "\x1b[1mb"})
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 2
    for line in lines:
        assert "color_message" not in line
        assert "\x1b[" not in line and "\\u001b" not in line
    first, second = map(json.loads, lines)
    assert first["msg"] == "Uvicorn running on http://127.0.0.1:8000 (Press CTRL+C to quit)"
    assert first["service"] == "consent" and first["logger"] == "uvicorn.error"
    assert second["msg"] == "red alert" and second["x"] == "b"


def test_text_logs_drop_ansi(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("consent", fmt="text")
    logging.getLogger("uvicorn.error").info("\x1b[32mgreen\x1b[0m ok")
    err = capsys.readouterr().err
    assert "green ok" in err and "\x1b" not in err
