"""Live progress of a run in the terminal (rich), readable in CI logs too."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape
from rich.status import Status

from sandbox.scenarios.results import StepResult


class ConsoleProgress:
    """A spinner on the running step; one line per finished step."""

    def __init__(self, console: Console, total: int) -> None:
        self.console = console
        self.total = total
        self.status: Status | None = None

    def step_started(self, result: StepResult) -> None:
        self.status = self.console.status(
            f"[bold]{result.index}/{self.total}[/bold] {escape(result.title)} "
            f"[dim]({escape(result.actor)})[/dim]"
        )
        self.status.start()

    def step_finished(self, result: StepResult) -> None:
        if self.status is not None:
            self.status.stop()
            self.status = None
        mark = "[green]✓[/green]" if result.status == "passed" else "[red]✗[/red]"
        tries = f", {result.attempts} tries" if result.attempts > 1 else ""
        self.console.print(
            f"  {mark} {result.index:>2}. {escape(result.title)} [dim]— {escape(result.actor)}; "
            f"{escape(result.boundary)} ({result.duration_ms:.0f} ms{tries})[/dim]"
        )
