"""Expectations against real-shaped responses: each failure says path, rule, expected, actual."""

from typing import Any

from sandbox.scenarios.checks import check_response
from sandbox.scenarios.model import Expect

BODY = {
    "response": {"authStatus": True, "authToken": "tok-123"},
    "errors": None,
    "tokens": {"moh-hmis": "a", "dpa-consent": "b"},
    "rows": [["BCG", "ou1", "12"], ["MR1", "ou1", "3"]],
}


def failures(expect: dict[str, Any], status: int = 200, headers=None, body=BODY, variables=None):
    return check_response(
        Expect.model_validate(expect),
        status=status,
        headers=headers or {"X-Road-Id": "abc"},
        body=body,
        variables=variables or {"token": "tok-123"},
    )


def test_a_matching_response_has_no_failures():
    assert (
        failures(
            {
                "status": [200, 201],
                "json": {
                    "response.authStatus": True,
                    "response.authToken": {"equals": "${token}", "regex": "^tok-"},
                    "errors": None,
                    "tokens": {"length": 2, "contains": {"moh-hmis": "a"}},
                    "rows[*][0]": {"contains": "BCG", "not_contains": "OPV"},
                    "nope": {"exists": False},
                },
                "headers": {"x-road-id": {"exists": True}},
            }
        )
        == []
    )


def test_each_mismatch_names_the_rule_expected_and_actual():
    found = failures(
        {
            "status": 201,
            "json": {
                "response.authStatus": False,
                "response.authToken": {"not_equals": "${token}"},
                "tokens": {"length": 3},
                "missing.field": {"exists": True},
                "other": {"regex": "x"},
            },
            "headers": {"X-Road-Error": {"exists": True}},
        }
    )
    assert "status: expected 201, got 200" in found
    assert "json response.authStatus: expected equals false, got true" in found
    assert 'json response.authToken: expected not equals "tok-123", got "tok-123"' in found
    assert any(f.startswith("json tokens: expected length 3, got length 2") for f in found)
    assert "json missing.field: expected present, got (missing)" in found
    assert 'json other: expected regex "x", got (missing)' in found
    assert "header X-Road-Error: expected present, got (missing)" in found
    assert len(found) == 7


def test_a_non_json_body_fails_json_expectations_clearly():
    found = failures({"json": {"a": 1}}, body="<html>oops</html>")
    assert found == ['json a: expected a JSON body, got "<html>oops</html>"']


def test_step_timings_over_repeated_runs() -> None:
    from sandbox.scenarios.results import RunResult, StepResult
    from sandbox.scenarios.timing import percentile, step_timings

    def run(*durations: float, failed_at: int | None = None) -> RunResult:
        steps = [
            StepResult(i, f"s{i}", "a", "b", "call", "t", duration_ms=d, status="passed")
            for i, d in enumerate(durations, start=1)
        ]
        if failed_at is not None:
            steps[failed_at - 1].status = "failed"
        return RunResult("r", "n", "T", "P", "t0", steps=steps)

    assert percentile([5.0, 1.0, 3.0, 2.0, 4.0], 0.95) == 5.0
    assert percentile([5.0, 1.0, 3.0, 2.0, 4.0], 0.5) == 3.0
    assert percentile([7.0], 0.95) == 7.0
    timings = step_timings([run(10, 1), run(20, 2), run(30, 3, failed_at=2)])
    assert [(t.index, t.count, t.median_ms, t.max_ms) for t in timings] == [
        (1, 3, 20, 30),
        (2, 2, 1.5, 2),
    ]


def test_without_a_status_expectation_an_error_status_fails() -> None:
    assert failures({}, status=204, body=None) == []
    assert failures({}, status=404, body=None) == ["status: expected success (below 400), got 404"]
