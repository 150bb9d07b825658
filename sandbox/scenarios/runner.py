"""Run a scenario against live services: substitute, call, check, save, report progress."""

from __future__ import annotations

import json
import os
import re
import secrets
import time
import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

import httpx

from sandbox.scenarios.checks import check_response, show
from sandbox.scenarios.loader import LoadedScenario
from sandbox.scenarios.model import BasicAuth, Capture, Step, Upload, project_path
from sandbox.scenarios.paths import resolve
from sandbox.scenarios.results import Call, RunResult, StepResult, mask_headers
from sandbox.scenarios.uploads import zip_directory
from sandbox.scenarios.variables import MissingVariable, builtins, substitute
from services.kernel.derived_keys import ADMIN_KEY_HEADER, CLIENT_KEY_HEADER, client_key

BODY_LIMIT = 20_000


class Progress(Protocol):
    def step_started(self, result: StepResult) -> None: ...
    def step_finished(self, result: StepResult) -> None: ...


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def new_run_id(runs_dir: Path | None = None) -> str:
    """16 hex digits: the UTC time (readable, sortable) and a random byte; unique per data dir."""
    while True:
        run_id = f"{datetime.now(UTC):%Y%m%d%H%M%S}{secrets.token_hex(1)}"
        if runs_dir is None or not (runs_dir / run_id).exists():
            return run_id


def step_trace_id(run_id: str, index: int) -> str:
    """One W3C trace per step; its first half is the run id, so a trace names its run."""
    return f"{run_id}{index:016x}"


def _parse_body(response: httpx.Response) -> Any:
    if not response.content:
        return None
    try:
        return response.json()
    except ValueError:
        text = response.text
        return text if len(text) <= BODY_LIMIT else text[:BODY_LIMIT] + "…"


def _basic(auth: BasicAuth | None, variables: Mapping[str, Any]) -> httpx.BasicAuth | None:
    if auth is None:
        return None
    return httpx.BasicAuth(
        str(substitute(auth.username, variables)), str(substitute(auth.password, variables))
    )


def _described(upload: Upload | None) -> dict[str, str] | None:
    """What the trace shows of an upload: the field and the source, not the bytes."""
    if upload is None:
        return None
    return {"upload": upload.field, "filename": upload.name, "zip_dir": upload.zip_dir}


class Runner:
    """Runs scenarios over HTTP; `urls` maps a topology service name to its base URL."""

    def __init__(
        self,
        *,
        urls: Callable[[str], str],
        admin_key: str | None = None,
        secret: str | None = None,
        progress: Progress | None = None,
        runs_dir: Path | None = None,
    ) -> None:
        self.urls = urls
        self.admin_key = admin_key or os.environ.get("DPI_ADMIN_KEY", "dpi-admin")
        self.secret = secret
        self.progress = progress
        self.runs_dir = runs_dir

    def run(self, loaded: LoadedScenario, run_id: str | None = None) -> RunResult:
        scenario = loaded.scenario
        run_id = run_id or new_run_id(self.runs_dir)
        result = RunResult(
            run_id=run_id,
            scenario=loaded.name,
            title=scenario.title,
            pattern=scenario.pattern,
            started_at=now_iso(),
            description=scenario.description,
        )
        variables: dict[str, Any] = {**builtins(run_id)}
        for name, value in scenario.vars.items():
            variables[name] = substitute(value, variables)
        result.steps = [
            StepResult(
                index=index,
                title=step.title,
                actor=step.actor,
                boundary=step.boundary,
                kind=step.kind,
                trace_id=step_trace_id(run_id, index),
                note=step.note,
            )
            for index, step in enumerate(scenario.steps, start=1)
        ]
        with httpx.Client(follow_redirects=False) as client:
            for step, step_result in zip(scenario.steps, result.steps, strict=True):
                if self.progress:
                    self.progress.step_started(step_result)
                self._run_step(client, step, step_result, variables)
                if self.progress:
                    self.progress.step_finished(step_result)
                if step_result.status == "failed":
                    break
        result.finished_at = now_iso()
        return result

    def _run_step(
        self, client: httpx.Client, step: Step, result: StepResult, variables: dict[str, Any]
    ) -> None:
        started = time.monotonic()
        deadline = started + (step.poll.timeout if step.poll else 0.0)
        while True:
            result.attempts += 1
            try:
                call = self._call(client, step, result.trace_id, variables)
            except MissingVariable as exc:
                result.failures = [str(exc.args[0])]
                break
            result.call = call
            result.failures = self._check(step, call, variables)
            if not result.failures or step.poll is None or time.monotonic() >= deadline:
                break
            time.sleep(min(step.poll.interval, max(0.0, deadline - time.monotonic())))
        if not result.failures and result.call is not None:
            result.failures = self._save(step, result, result.call.response_body, variables)
        if result.failures and step.poll is not None and result.attempts > 1:
            result.failures.append(f"still not met after {step.poll.timeout:g}s of polling")
        result.status = "failed" if result.failures else "passed"
        result.duration_ms = round((time.monotonic() - started) * 1000, 2)

    def _check(self, step: Step, call: Call, variables: Mapping[str, Any]) -> list[str]:
        if call.error is not None:
            return [f"no response: {call.error}"]
        assert call.status is not None
        try:
            return check_response(
                step.expect,
                status=call.status,
                headers=call.response_headers,
                body=call.response_body,
                variables=variables,
            )
        except MissingVariable as exc:
            return [f"expectation: {exc.args[0]}"]

    def _save(
        self, step: Step, result: StepResult, body: Any, variables: dict[str, Any]
    ) -> list[str]:
        failures = []
        for name, spec in step.save.items():
            path = spec if isinstance(spec, str) else spec.path
            found, value = resolve(body, path) if body is not None else (False, None)
            if not found:
                failures.append(f"save {name}: nothing at {path} in {show(body)}")
                continue
            if isinstance(spec, Capture):
                match = re.search(spec.regex, str(value))
                if match is None:
                    failures.append(f"save {name}: {spec.regex!r} not in {show(value)}")
                    continue
                value = match.group(1) if match.groups() else match.group(0)
            variables[name] = value
            result.saved[name] = value
        return failures

    def _call(
        self, client: httpx.Client, step: Step, trace_id: str, variables: Mapping[str, Any]
    ) -> Call:
        request = step.request
        path = substitute(request.path, variables)
        headers = {str(k): str(v) for k, v in substitute(request.headers, variables).items()}
        headers["traceparent"] = f"00-{trace_id}-{secrets.token_hex(8)}-01"
        x_road_id: str | None = None
        if request.mediated:
            assert request.client is not None and request.provider is not None
            member = substitute(request.client, variables)
            provider = substitute(request.provider, variables)
            url = f"{self.urls('interop_layer')}/r1/{provider}{path}"
            x_road_id = str(uuid.uuid4())
            headers.setdefault("X-Road-Client", member)
            headers.setdefault(CLIENT_KEY_HEADER, client_key(member, self.secret))
            headers.setdefault("X-Road-Id", x_road_id)
            target = provider
        else:
            assert request.service is not None
            target = substitute(request.service, variables)
            url = f"{self.urls(target)}{path}"
        if request.subject is not None:
            headers["X-DPI-Subject"] = str(substitute(request.subject, variables))
        if request.purpose is not None:
            headers["X-DPI-Purpose"] = str(substitute(request.purpose, variables))
        if request.admin:
            headers.setdefault(ADMIN_KEY_HEADER, self.admin_key)
        raw_body = request.json_
        if request.json_file is not None:
            raw_body = json.loads(_project_file(request.json_file).read_text(encoding="utf-8"))
        body = substitute(raw_body, variables)
        form = substitute(request.form, variables)
        files = None
        if request.upload is not None:
            data = zip_directory(_project_file(request.upload.zip_dir))
            files = {request.upload.field: (request.upload.name, data, "application/zip")}
            form = form or None
        query = {k: v for k, v in substitute(request.query, variables).items() if v is not None}
        call = Call(
            method=request.method,
            url=url,
            target=target,
            client=request.client and substitute(request.client, variables),
            provider=request.provider and substitute(request.provider, variables),
            trace_id=trace_id,
            x_road_id=x_road_id,
            request_headers=mask_headers(headers),
            request_body=body if body is not None else form or _described(request.upload),
            started_at=now_iso(),
        )
        clock = time.perf_counter()
        try:
            response = client.request(
                request.method,
                url,
                params=query,
                headers=headers,
                json=body,
                data=form,
                files=files,
                auth=_basic(request.basic_auth, variables),
                timeout=request.timeout,
            )
        except httpx.HTTPError as exc:
            call.error = f"{type(exc).__name__}: {exc} ({request.method} {url})"
        else:
            call.status = response.status_code
            call.response_headers = dict(response.headers)
            call.response_body = _parse_body(response)
        call.duration_ms = round((time.perf_counter() - clock) * 1000, 2)
        return call


def _project_file(relative: str) -> Path:
    path = project_path(relative)
    if path is None:  # checked when the scenario was loaded; gone since
        raise FileNotFoundError(f"{relative!r} is no longer in the repository")
    return path
