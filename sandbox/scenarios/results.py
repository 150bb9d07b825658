"""What a run observed: every call the runner made, each step's outcome, the run as a whole."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

StepStatus = Literal["passed", "failed", "skipped"]
SECRET_HEADERS = frozenset({"x-dpi-client-key", "x-dpi-admin-key", "authorization"})


@dataclass
class Call:
    """One HTTP request the runner sent and the response it got."""

    method: str
    url: str
    target: str
    client: str | None
    provider: str | None
    trace_id: str
    x_road_id: str | None
    request_headers: dict[str, str]
    request_body: Any
    status: int | None = None
    response_headers: dict[str, str] = field(default_factory=dict)
    response_body: Any = None
    error: str | None = None
    started_at: str = ""
    duration_ms: float = 0.0


@dataclass
class StepResult:
    index: int
    title: str
    actor: str
    boundary: str
    kind: str
    trace_id: str
    note: str | None = None
    status: StepStatus = "skipped"
    attempts: int = 0
    failures: list[str] = field(default_factory=list)
    saved: dict[str, Any] = field(default_factory=dict)
    call: Call | None = None
    duration_ms: float = 0.0


@dataclass
class RunResult:
    run_id: str
    scenario: str
    title: str
    pattern: str
    started_at: str
    finished_at: str = ""
    description: str = ""
    steps: list[StepResult] = field(default_factory=list)
    services: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return all(step.status == "passed" for step in self.steps)

    @property
    def failed_step(self) -> StepResult | None:
        return next((s for s in self.steps if s.status == "failed"), None)

    def trace_ids(self) -> list[str]:
        return [step.trace_id for step in self.steps if step.status != "skipped"]

    def failure_message(self) -> str | None:
        """Names the scenario, the step, what was expected and what came back."""
        step = self.failed_step
        if step is None:
            return None
        lines = [
            f'Scenario "{self.title}" ({self.scenario}) failed at step {step.index} '
            f'"{step.title}" ({step.actor}; {step.boundary}):'
        ]
        lines += [f"  - {failure}" for failure in step.failures]
        if step.call is not None:
            lines.append(f"  request: {step.call.method} {step.call.url}")
        if step.attempts > 1:
            lines.append(f"  (after {step.attempts} attempts)")
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["ok"] = self.ok
        return data


def mask_headers(headers: dict[str, str]) -> dict[str, str]:
    """Headers as recorded in reports: credentials replaced by a placeholder."""
    return {k: ("***" if k.lower() in SECRET_HEADERS else v) for k, v in headers.items()}
