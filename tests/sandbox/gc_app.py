"""A bare app that reports its process's garbage collector: forked by the preloader in a test."""

from __future__ import annotations

import gc

from fastapi import FastAPI

app = FastAPI()


@app.get("/readyz")
def readyz() -> dict[str, str]:
    return {"status": "ready"}


@app.get("/gc")
def collector() -> dict[str, int | bool]:
    return {"enabled": gc.isenabled(), "frozen": gc.get_freeze_count()}
