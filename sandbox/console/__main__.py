"""`python -m sandbox.console --port N [--host H]`: serve the console, on loopback unless told
(the launcher runs this; a container passes `--host 0.0.0.0` and publishes the port on loopback)."""

from __future__ import annotations

import argparse
import os

import uvicorn

from sandbox.console.config import HOST, HOST_ENV


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m sandbox.console")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument(
        "--host",
        default=os.environ.get(HOST_ENV, HOST),
        help=f"address to bind (default: ${HOST_ENV}, else {HOST})",
    )
    args = parser.parse_args()
    # browsers keep the live feed open: without a short grace, a stop would wait for them
    uvicorn.run(
        "sandbox.console.main:app",
        host=args.host,
        port=args.port,
        access_log=False,
        timeout_graceful_shutdown=1,
    )


if __name__ == "__main__":
    main()
