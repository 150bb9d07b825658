"""uvicorn's HTTP protocol with a cork: an app that has its whole answer at hand (the mediator's
held answers) sends the head and the body in one socket write instead of two.

Run a service with `uvicorn --http services.kernel.serving:HttpProtocol …` (the launcher, the
compose file and the benchmarks do). The cork is offered in the ASGI scope as
`scope["extensions"]["dpi.cork"]`; without this protocol it is absent and nothing changes.
"""

from __future__ import annotations

import asyncio
from typing import Any

from starlette.types import Scope
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

CORK = "dpi.cork"


class CorkedTransport:
    """The connection's transport; between `cork` and `uncork` writes are joined into one."""

    __slots__ = ("_held", "transport")

    def __init__(self, transport: asyncio.Transport) -> None:
        self.transport = transport
        self._held: list[bytes] | None = None

    def write(self, data: bytes) -> None:
        if self._held is None:
            self.transport.write(data)
        else:
            self._held.append(data)

    def cork(self) -> None:
        if self._held is None:
            self._held = []

    def uncork(self) -> None:
        held, self._held = self._held, None
        if held:
            self.transport.write(held[0] if len(held) == 1 else b"".join(held))

    def close(self) -> None:
        self.uncork()  # what was written goes before the connection ends
        self.transport.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.transport, name)


class HttpProtocol(HttpToolsProtocol):
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        self.corked = CorkedTransport(transport)
        super().connection_made(self.corked)  # type: ignore[arg-type]

    def on_message_begin(self) -> None:
        super().on_message_begin()
        extensions: dict[str, Any] = self.scope.setdefault("extensions", {})
        extensions[CORK] = self.corked


def cork_of(scope: Scope) -> CorkedTransport | None:
    """The connection's cork when the service runs on `HttpProtocol`."""
    extensions = scope.get("extensions")
    return extensions.get(CORK) if extensions else None


HTTP_PROTOCOL = "services.kernel.serving:HttpProtocol"
