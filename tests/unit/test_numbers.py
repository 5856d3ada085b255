"""Whole numbers as clients write them: ASCII digits, within a bound."""
from __future__ import annotations

import re

import pytest

from common.numbers import MAX_INT, digits_up_to, whole_number


@pytest.mark.parametrize("raw, number", [("0", 0), ("42", 42), ("007", 7), (str(MAX_INT), MAX_INT),
                                         ("0" * 50 + "1", 1)])
def test_ascii_digits_up_to_the_database_integer_are_a_number(raw, number):
    assert whole_number(raw) == number


@pytest.mark.parametrize("raw", ["", " 1", "-1", "+1", "1_000", "1e3", "1.0", "\u0663", "\u00b2", "\uff11",
                                 "1\u0663", str(MAX_INT + 1), "9223372036854775807", "1" * 5000])
def test_anything_else_is_no_number(raw):
    assert whole_number(raw) is None


def test_a_smaller_bound():
    assert (whole_number("99", 99), whole_number("100", 99)) == (99, None)


@pytest.mark.parametrize("maximum", [0, 7, 10, 99, 100, 1204, 3000])
def test_the_digits_up_to_a_maximum_match_every_number_to_it_and_none_above(maximum):
    pattern = re.compile(digits_up_to(maximum))
    matched = {n for n in range(maximum * 10 + 20) if pattern.fullmatch(str(n))}
    assert matched == set(range(maximum + 1))
    assert pattern.fullmatch(f"000{maximum}") and not pattern.fullmatch(f"00{maximum + 1}")


def test_the_digits_up_to_the_database_integer():
    pattern = re.compile(digits_up_to(MAX_INT))
    assert all(pattern.fullmatch(str(n)) for n in (0, 9, 999_999_999, 2_147_483_639, MAX_INT))
    assert not any(pattern.fullmatch(str(n)) for n in (MAX_INT + 1, 2_147_483_650, 2_200_000_000, 10**10))
