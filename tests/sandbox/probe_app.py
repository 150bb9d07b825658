"""A bare app that reports on its own process: forked by the preloader in a test."""

from __future__ import annotations

import gc
import sys

from fastapi import FastAPI

app = FastAPI()
CLI_ONLY = ("rich", "pygments")  # the `dpi` command's libraries, which httpx's CLI would import


@app.get("/process")
def process() -> dict[str, object]:
    return {
        "gc_enabled": gc.isenabled(),
        "frozen": gc.get_freeze_count(),
        "cli_only_loaded": [name for name in CLI_ONLY if name in sys.modules],
    }
