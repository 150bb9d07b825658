"""Verhoeff and MOSIP's UIN/VID rules, property-based."""

import random
import re

from hypothesis import given, settings
from hypothesis import strategies as st

from services.id_registry import ids

digits = st.text(alphabet="0123456789", min_size=1, max_size=20)


@settings(deadline=None)
@given(digits)
def test_appending_the_check_digit_makes_a_valid_number(body: str) -> None:
    assert ids.verhoeff_valid(body + ids.verhoeff_check_digit(body))


@settings(deadline=None)
@given(digits, st.data())
def test_any_single_digit_error_is_detected(body: str, data: st.DataObject) -> None:
    number = body + ids.verhoeff_check_digit(body)
    position = data.draw(st.integers(0, len(number) - 1))
    wrong = data.draw(st.sampled_from([d for d in "0123456789" if d != number[position]]))
    assert not ids.verhoeff_valid(number[:position] + wrong + number[position + 1 :])


@settings(deadline=None)
@given(st.text(alphabet="0123456789", min_size=2, max_size=20), st.data())
def test_adjacent_transpositions_are_detected(body: str, data: st.DataObject) -> None:
    number = body + ids.verhoeff_check_digit(body)
    i = data.draw(st.integers(0, len(number) - 2))
    if number[i] == number[i + 1]:
        return
    swapped = number[:i] + number[i + 1] + number[i] + number[i + 2 :]
    assert not ids.verhoeff_valid(swapped)


def test_known_verhoeff_values() -> None:
    assert ids.verhoeff_check_digit("236") == "3"
    assert ids.verhoeff_valid("2363") and not ids.verhoeff_valid("2364")


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 2**32))
def test_generated_uins_and_vids_follow_every_rule(seed: int) -> None:
    rng = random.Random(seed)
    uin, vid = ids.generate_uin(rng), ids.generate_vid(rng)
    for value, length in ((uin, 10), (vid, 16)):
        assert len(value) == length and value.isdigit()
        assert value[0] not in "01"
        assert ids.verhoeff_valid(value)
        assert not re.search(r"(\d)\d?\1", value), value  # no "11" or "1x1"
        assert not re.search(r"(\d{2,}).*?\1", value), value  # no repeated block
        for i in range(length - 2):
            a, b, c = (int(ch) for ch in value[i : i + 3])
            assert not (b == a + 1 and c == b + 1) and not (b == a - 1 and c == b - 1)
    assert ids.is_valid_uin(uin) and ids.is_valid_vid(vid)
    assert not ids.is_valid_uin(vid) and not ids.is_valid_vid(uin)


@settings(deadline=None)
@given(st.text(alphabet="0123456789", min_size=10, max_size=10))
def test_uin_validity_is_exactly_the_rules(value: str) -> None:
    expected = ids.verhoeff_valid(value) and ids.passes_filters(value)
    assert ids.is_valid_uin(value) == expected


def test_rule_examples() -> None:
    assert not ids.passes_filters("0472983651")  # starts with 0
    assert not ids.passes_filters("1472983651")  # starts with 1
    assert not ids.passes_filters("4729836123")  # ascending run "123"
    assert not ids.passes_filters("4729836543")  # descending run "654"
    assert not ids.passes_filters("4729833651")  # "33"
    assert not ids.passes_filters("4729838651")  # "8x8"
    assert not ids.passes_filters("4729647295")  # block "4729" repeated... and "47" again
    assert not ids.is_valid_uin("47298361x5")
    assert not ids.is_valid_uin("٤٧٢٩٨٣٦١٥٠")  # non-ASCII digits


@settings(deadline=None, max_examples=30)
@given(st.integers(min_value=0, max_value=2**32), st.integers(min_value=1, max_value=300))
def test_uins_drawn_in_bulk_are_valid_and_follow_the_seed(seed: int, count: int) -> None:
    drawn = ids.generate_uins(random.Random(seed), count)
    assert len(drawn) == count and all(ids.is_valid_uin(uin) for uin in drawn)
    assert drawn == ids.generate_uins(random.Random(seed), count)


def test_uins_drawn_in_bulk_cover_every_first_digit_and_rarely_repeat() -> None:
    drawn = ids.generate_uins(random.SystemRandom(), 20_000)
    assert {uin[0] for uin in drawn} == set("23456789")
    # about 10^8 valid UINs: 20,000 draws repeat one about twice (birthday bound), not dozens
    assert len(set(drawn)) > 19_950
