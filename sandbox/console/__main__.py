"""`python -m sandbox.console --port N`: serve the console on loopback (the launcher runs this)."""

from __future__ import annotations

import argparse

import uvicorn

from sandbox.console.config import HOST


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m sandbox.console")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    # browsers keep the live feed open: without a short grace, a stop would wait for them
    uvicorn.run(
        "sandbox.console.main:app",
        host=HOST,
        port=args.port,
        access_log=False,
        timeout_graceful_shutdown=1,
    )


if __name__ == "__main__":
    main()
