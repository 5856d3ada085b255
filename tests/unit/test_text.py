"""Free text a service takes: what is refused, with which sentence, and what is stored."""
from __future__ import annotations

import pytest

from common.text import TextError, checked_text, flaw

LABEL = "the street of the shipping address"


def refusal(value, limit: int = 200) -> str:
    with pytest.raises(TextError) as refused:
        checked_text(value, LABEL, limit)
    return str(refused.value)


@pytest.mark.parametrize("value", ["a\x00b", "Haupt\tstraße", "line\nbreak", "a\rb", "esc\x1b[31m", "del\x7f",
                                   "c1\x85c", "\x9f"])
def test_control_characters_are_refused(value):
    assert refusal(value) == "The street of the shipping address contains a control character."


@pytest.mark.parametrize("value", ["a\ud800b", "\udfff", "x\udbff"])
def test_lone_surrogates_are_refused(value):
    assert refusal(value) == "The street of the shipping address contains an invalid character (a lone surrogate)."


@pytest.mark.parametrize("char", [chr(code) for code in [*range(0x202A, 0x202F), *range(0x2066, 0x206A)]])
def test_bidirectional_embeddings_overrides_and_isolates_are_refused(char):
    assert refusal(f"Main St{char} 5") == (
        "The street of the shipping address contains a character that changes the direction of the text.")


@pytest.mark.parametrize("value", [None, 10999, ["Main St"], "", "   ", "\u200b\u200b", "\u200d", "\u200c \u200b",
                                   "\ufeff", "\u00ad", "\u2060", "\u3164", "\ufe0f", "\u034f", "\u3000\u00a0"])
def test_a_field_with_nothing_visible_is_asked_for(value):
    assert refusal(value) == "Enter the street of the shipping address."


@pytest.mark.parametrize("value", [
    "Ohlauer Str. 43", "Grüner Weg 7 <Hinterhaus>",
    "क्\u200dष",  # ZWJ inside Devanagari: needed there
    "می\u200cخواهم",  # ZWNJ inside Persian
    "שדרות רוטשילד 1\u200f",  # the right-to-left mark is not an override
    "👩\u200d👩\u200d👧",  # an emoji sequence joined by ZWJ
])
def test_real_text_with_joiners_and_marks_is_kept_as_it_is(value):
    assert checked_text(value, LABEL, 200) == value


def test_text_is_trimmed_and_stored_composed_nfc():
    assert checked_text("  Gru\u0308ner Weg  ", LABEL, 200) == "Grüner Weg"


def test_the_limit_counts_the_characters_as_stored():
    assert checked_text("e\u0301" * 5, LABEL, 5) == "é" * 5
    assert refusal("x" * 6, 5) == "The street of the shipping address has more than 5 characters."


def test_a_flaw_is_named_before_the_length():
    assert "control character" in refusal("\x00" * 1000, 5)


@pytest.mark.parametrize("text, found", [("fine", None), ("a\x00", "a control character"),
                                         ("a\u2028b", "a line break"), ("\u2029", "a line break"),
                                         ("\u2067", "a character that changes the direction of the text")])
def test_flaw_names_what_no_field_takes(text, found):
    assert flaw(text) == found
