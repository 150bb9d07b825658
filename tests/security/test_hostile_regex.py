"""A user-supplied regular expression cannot stall the registries service (ReDoS)."""

from __future__ import annotations

import ast
import time
from pathlib import Path

import anyio
import httpx
import pytest

from services.interop_layer.directory import EndpointRule
from tests.registries.civil_records import birth
from tests.security.hostile_support import AUTH, in_subprocess

pytestmark = pytest.mark.anyio

CRVS = {**AUTH["registries"], "Information-Mediator-Client": "DPI/GOV/CRVS/registries"}
# with a backtracking engine, `(a+)+$` on 32 a's and a '!' takes ~2^32 steps: minutes
VICTIM = "a" * 32 + "!"
EVIL = ["(a+)+$", "(a|a)+$", "(a|aa)+$", "([a-z]+)*!x"]


async def test_a_catastrophic_pattern_answers_fast_and_healthz_stays_up(tmp_path: Path):
    with in_subprocess("registries", tmp_path) as service:
        async with httpx.AsyncClient(base_url=service.url, timeout=10.0) as client:
            created = await client.post(
                "/data/births/1.0/create",
                json={"write": {"content": birth(VICTIM)}},
                headers=CRVS,
            )
            assert created.status_code == 200, created.text
            probe_latencies: list[float] = []
            searching = True

            async def probe() -> None:
                while searching:
                    started = time.perf_counter()
                    health = await client.get("/healthz")
                    assert health.status_code == 200
                    probe_latencies.append(time.perf_counter() - started)
                    await anyio.sleep(0.02)

            async with anyio.create_task_group() as group:
                group.start_soon(probe)
                for pattern in EVIL:
                    started = time.perf_counter()
                    found = await client.get(
                        "/data/births/1.0", params={"search": pattern}, headers=CRVS
                    )
                    elapsed = time.perf_counter() - started
                    assert found.status_code == 200, found.text
                    assert elapsed < 2.0, f"{pattern} took {elapsed:.1f} s"
                searching = False
            assert probe_latencies and max(probe_latencies) < 1.0


async def test_regex_search_still_finds_and_long_patterns_are_refused(tmp_path: Path):
    with in_subprocess("registries", tmp_path) as service:
        async with httpx.AsyncClient(base_url=service.url, timeout=10.0) as client:
            for name in ("Amani", "Imani", VICTIM):
                created = await client.post(
                    "/data/births/1.0/create",
                    json={"write": {"content": birth(name)}},
                    headers=CRVS,
                )
                assert created.status_code == 200, created.text

            async def search(pattern: str) -> httpx.Response:
                return await client.get(
                    "/data/births/1.0", params={"search": pattern}, headers=CRVS
                )

            assert (await search("^[ai]mani$")).json()["count"] == 2  # case-insensitive regex
            assert (await search("(a+)+!$")).json()["count"] == 1
            assert (await search("(a)\\1")).json()["count"] == 0  # no backreferences: as text
            refused = await search("a" * 201)
            assert refused.status_code == 400
            assert "200" in refused.json()["detail"]


def _compiled_from_variables(tree: ast.AST) -> list[str]:
    found = []
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in ("compile", "search", "match", "fullmatch")
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id in ("re", "re2")
            and node.args
            and not isinstance(node.args[0], ast.Constant)
        ):
            found.append(ast.unparse(node))
    return found


def test_the_other_services_take_no_regex_from_callers() -> None:
    """Other regexes are literals; the two built from variables run on RE2 (the mediator's
    endpoint globs are admin configuration, but the path they are matched against is the
    caller's). A new regex built from a variable needs a look."""
    root = Path(__file__).resolve().parents[2] / "services"
    dynamic = {
        f"{path.relative_to(root)}: {call}"
        for path in root.rglob("*.py")
        for call in _compiled_from_variables(ast.parse(path.read_text()))
    }
    assert dynamic == {
        "interop_layer/directory.py: re2.compile(path_regex(path))",
        "registries/data/content.py: re2.compile(search, _RE2_OPTIONS)",
    }


def test_an_endpoint_glob_with_several_stars_matches_a_long_path_in_linear_time() -> None:
    rule = EndpointRule.of({"method": "GET", "path": "/x/*/y/*/z"})
    hostile = "/x/" + "y/" * 30_000  # ~60 KB: quadratic backtracking took ~6 s a request
    started = time.perf_counter()
    assert not rule.matches("GET", hostile)
    assert rule.matches("GET", hostile + "z")
    assert rule.matches("GET", "/x/a/y/b/z") and not rule.matches("POST", "/x/a/y/b/z")
    assert time.perf_counter() - started < 0.5
