"""The validation/predictor expression language, against values worked out by hand."""

import pytest

from services.sectoral_platform.validation.compiler import evaluate
from services.sectoral_platform.validation.expression import (
    Context,
    ExpressionError,
    Lookup,
    items,
    parse,
)

A, B, COC, K = "AAAAAAAAAAA", "BBBBBBBBBBB", "CCCCCCCCCCC", "KKKKKKKKKKK"
CURRENT: dict[tuple[str, str | None], float] = {(A, None): 10.0, (A, COC): 4.0, (B, None): 3.0}
SAMPLES: list[dict[tuple[str, str | None], float]] = [
    {(A, None): 2.0},
    {(A, None): 6.0, (B, None): 1.0},
    {},
    {(A, None): 7.0},
]


def reader(values: dict[tuple[str, str | None], float]) -> Lookup:
    return lambda de, co: values.get((de, co))


def value(text: str) -> float | None:
    ctx = Context(current=reader(CURRENT), constants={K: 2.5}, samples=[reader(s) for s in SAMPLES])
    return evaluate(parse(text, aggregates=True), ctx)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f"#{{{A}}} + #{{{B}}} * 2", 16.0),
        (f"(#{{{A}}} + #{{{B}}}) * 2", 26.0),
        (f"#{{{A}.{COC}}} / 8", 0.5),
        (f"#{{{A}}} * C{{{K}}}", 25.0),
        ("2 ^ 3 ^ 2", 512.0),
        ("-2 ^ 2", -4.0),
        ("7 % 4", 3.0),
        (f"#{{{A}}} > 5 && #{{{B}}} < 1", 0.0),
        (f"#{{{A}}} > 5 or #{{{B}}} < 1", 1.0),
        (f"!(#{{{A}}} == 10)", 0.0),
        (f"if(#{{{B}}} >= 3, 100, 200)", 100.0),
        ("isNull(#{ZZZZZZZZZZZ})", 1.0),
        (f"isNotNull(#{{{B}}})", 1.0),
        (f"firstNonNull(#{{ZZZZZZZZZZZ}}, #{{{B}}}, 9)", 3.0),
        (f"greatest(#{{{A}}}, #{{{B}}}, 11)", 11.0),
        (f"least(#{{{A}}}, #{{{B}}}, 11)", 3.0),
        (f"#{{{A}}} + #{{ZZZZZZZZZZZ}}", 10.0),  # a missing item counts as 0
        (f"#{{{A}}} / 0", None),  # division by zero: no value
        (f"sum(#{{{A}}})", 15.0),  # samples 2 + 6 + 7, the empty one skipped
        (f"avg(#{{{A}}})", 5.0),
        (f"min(#{{{A}}}) + max(#{{{A}}})", 9.0),
        (f"count(#{{{A}}})", 3.0),
        (f"median(#{{{A}}})", 6.0),
        (f"variance(#{{{A}}})", 7.0),  # mean 5: (9 + 1 + 4) / 2
        (f"stddevPop(#{{{A}}}) ^ 2", 14.0 / 3),
        (f"sum(#{{{B}}}) + #{{{B}}}", 4.0),  # samples read inside, the output period outside
        ("sum(#{ZZZZZZZZZZZ})", None),
    ],
)
def test_values(text: str, expected: float | None) -> None:
    result = value(text)
    if expected is None:
        assert result is None
    else:
        assert result == pytest.approx(expected)


def test_items_inside_and_outside_aggregates() -> None:
    tree = parse(f"sum(#{{{A}.{COC}}}) + #{{{B}}}", aggregates=True)
    assert items(tree, sampled=True) == {(A, COC)}
    assert items(tree, sampled=False) == {(B, None)}


@pytest.mark.parametrize(
    ("text", "token"),
    [
        ("1 +", "+"),
        ("1 2", "2"),
        ("(1", "1"),
        ("#{short}", "#{short}"),
        ("1 @ 2", "@"),
        ("sum(#{AAAAAAAAAAA})", "sum"),  # aggregates only in predictors
        ("if(1, 2)", "if"),
        ("R{abc.REPORTING_RATE}", "R{abc.REPORTING_RATE}"),
        ("", ""),
    ],
)
def test_parse_errors_name_the_token(text: str, token: str) -> None:
    with pytest.raises(ExpressionError) as caught:
        parse(text)
    assert caught.value.token == token


def test_long_chains_compile_flat_and_deep_nesting_is_refused() -> None:
    assert value(" + ".join([f"#{{{A}}}"] * 600) + " - 1") == 5999.0
    assert value(" * ".join(["1"] * 400) + f" / 2 * #{{{B}}}") == 1.5
    assert value("10 - 4 - 3") == 3.0 and value("64 / 4 / 2") == 8.0
    assert value("2 * (3 + 4) - (10 - 4 - 3)") == 11.0
    assert value("(" * 50 + "1" + ")" * 50) == 1.0
    with pytest.raises(ExpressionError) as deep:
        parse("(" * 51 + "1" + ")" * 51)
    assert deep.value.token == "("
    with pytest.raises(ExpressionError) as huge:
        parse("1e999 + 1")
    assert huge.value.token == "1e999"
