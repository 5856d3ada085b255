"""Whole numbers as clients write them: ASCII digits, within a bound."""
from __future__ import annotations

import pytest

from common.numbers import MAX_INT, whole_number


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
