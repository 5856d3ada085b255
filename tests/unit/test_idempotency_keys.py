"""Idempotency keys as clients send them (a Structured Field String, RFC 8941), and the
fingerprint that tells a retry from another request."""
from __future__ import annotations

import pytest

from common.errors import InputError
from common.idempotency.keys import FORM_FIELD, HEADER, fingerprint, form_key, header_key


@pytest.mark.parametrize("lines, key", [
    ([], None),
    (['"8e03978e-40d5-43e8-bc93-6894a57f9324"'], "8e03978e-40d5-43e8-bc93-6894a57f9324"),
    ([' "a b" '], "a b"),
    (['"say \\"hi\\" \\\\ bye"'], 'say "hi" \\ bye'),
    (['"' + "k" * 255 + '"'], "k" * 255),
])
def test_a_quoted_string_is_a_key(lines, key):
    assert header_key(lines) == key


@pytest.mark.parametrize("lines, problem", [
    (["8e03978e"], "not a quoted string"),
    (['"unterminated'], "not a quoted string"),
    (['"a"b'], "not a quoted string"),
    (['"a";p=1'], "not a quoted string"),
    (['"a", "b"'], "not a quoted string"),
    (['"\\n"'], "not a quoted string"),
    (['"\u00e9"'], "not a quoted string"),
    (['"tab\there"'], "not a quoted string"),
    (["?1"], "not a quoted string"),
    (['""'], "is empty"),
    (['"' + "k" * 256 + '"'], "256 characters long"),
    (['"a"', '"a"'], "more than once"),
], ids=["token", "unterminated", "after the quote", "parameters", "a list", "bad escape", "not ASCII", "tab",
        "boolean", "empty", "too long", "twice"])
def test_anything_else_is_refused_with_a_sentence(lines, problem):
    with pytest.raises(InputError) as refused:
        header_key(lines)

    assert refused.value.message.startswith(f"The {HEADER} header must be one quoted string")
    assert problem in refused.value.details[HEADER]


def test_a_form_carries_its_key_as_typed():
    assert form_key(None) is None
    assert form_key("8e03978e-40d5-43e8-bc93-6894a57f9324") == "8e03978e-40d5-43e8-bc93-6894a57f9324"
    for damaged in ("", "k" * 256, "caf\u00e9", "a\nb"):
        with pytest.raises(InputError) as refused:
            form_key(damaged)
        assert FORM_FIELD in refused.value.details


def test_the_fingerprint_ignores_how_the_json_was_written():
    order = {"customerId": 1, "lines": [{"itemId": 1, "count": 2}]}
    rewritten = {"lines": [{"count": 2, "itemId": 1}], "customerId": 1}

    assert fingerprint("POST", "/", "application/json", order) == fingerprint("POST", "/", "application/json",
                                                                              rewritten)


@pytest.mark.parametrize("method, path, media_type, body", [
    ("PUT", "/", "application/json", {"a": 1}),
    ("POST", "/other", "application/json", {"a": 1}),
    ("POST", "/", "application/x-www-form-urlencoded", {"a": 1}),
    ("POST", "/", "application/json", {"a": 2}),
    ("POST", "/", "application/json", {"a": "1"}),
    ("POST", "/", "application/json", [{"a": 1}]),
])
def test_the_fingerprint_tells_every_part_of_the_request(method, path, media_type, body):
    assert fingerprint(method, path, media_type, body) != fingerprint("POST", "/", "application/json", {"a": 1})


def test_a_lone_surrogate_in_the_body_has_a_fingerprint_too():
    assert len(fingerprint("POST", "/", "application/json", {"street": "\ud800"})) == 64
