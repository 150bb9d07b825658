"""What the routes share: configuration, the HTTP client, the live hub, the run manager."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from sandbox.console.config import ConsoleConfig
from sandbox.console.live import Hub
from sandbox.console.mediator import SandboxClient
from sandbox.console.runs import RunManager


@dataclass
class ConsoleState:
    config: ConsoleConfig
    client: SandboxClient
    hub: Hub
    runs: RunManager


def _state(request: Request) -> ConsoleState:
    state: ConsoleState = request.app.state.console
    return state


StateDep = Annotated[ConsoleState, Depends(_state)]
