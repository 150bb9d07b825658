"""The program rule expression subset: parsing, refusals naming the token, evaluation."""

from __future__ import annotations

from typing import Any

import pytest

from services.sectoral_platform.dhis2.rule_expr import (
    Context,
    ExpressionError,
    display,
    evaluate,
    parse,
    variables,
)

VALUES: dict[str, Any] = {"weight": 2400.0, "name": "Ama", "dose": False, "dob": "2024-03-01"}
ENV = {"current_date": "2026-03-01", "event_date": "2024-03-11", "event_status": "ACTIVE"}


def run(text: str) -> Any:
    return evaluate(parse(text), Context(VALUES.get, ENV))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("#{weight} < 2500", True),
        ("#{weight} * 2 - 100 / 4", 4775.0),
        ("(#{weight} + 100) % 1000", 500.0),
        ("-#{weight} > -3000 and not #{dose}", True),
        ("#{dose} == false || #{weight} > 9000", True),
        ("#{name} == 'Ama' && A{name} != \"Kofi\"", True),
        ("#{missing} == ''", True),
        ("d2:hasValue(#{missing})", False),
        ("d2:hasValue('name')", True),
        ("d2:daysBetween(#{dob}, V{event_date})", 10.0),
        ("d2:yearsBetween(#{dob}, V{current_date})", 2.0),
        ("d2:yearsBetween('2024-03-02', V{current_date})", 1.0),
        ("d2:length(#{name}) + 1", 4.0),
        ("d2:concatenate(#{name}, '-', 7)", "Ama-7"),
        ("V{event_status} == 'ACTIVE'", True),
        ("'2' + '3'", 5.0),
        ("1 / 0", 0.0),
    ],
)
def test_evaluation(text: str, expected: Any) -> None:
    assert run(text) == expected


@pytest.mark.parametrize(
    ("text", "token"),
    [
        ("d2:zing(1)", "d2:zing"),
        ("#{a} > 1 ?? 2", "??"),
        ("V{program_stage_name} == 'x'", "V{program_stage_name}"),
        ("X{a} == 1", "X{a}"),
        ("#{a} > ", "<end>"),
        ("(1 + 2", "<end>"),
        ("1 2", "2"),
        ("d2:hasValue(#{a}, #{b})", "d2:hasValue"),
        ("#{} > 1", "#{}"),
        ("", ""),
    ],
)
def test_refusals_name_the_token(text: str, token: str) -> None:
    with pytest.raises(ExpressionError) as caught:
        parse(text)
    assert caught.value.token == token


def test_variables_and_display() -> None:
    assert variables(parse("#{a} + A{b} > d2:length(#{c})")) == {"a", "b", "c"}
    assert [display(v) for v in (3.0, 2.5, True, None, "x")] == ["3", "2.5", "true", "", "x"]
