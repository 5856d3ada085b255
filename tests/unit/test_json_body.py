"""A client's JSON body: parsed when shallow enough, refused with a sentence otherwise."""
from __future__ import annotations

import json

import pytest

from common.errors import InputError
from common.json_body import MAX_DEPTH, TooDeep, depth, loads, parse_json_body


def nested(levels: int) -> str:
    return "[" * levels + "]" * levels


@pytest.mark.parametrize("text, levels", [
    ("1", 0), ('"[[["', 0), ("[]", 1), ('{"a": [1, {"b": []}]}', 4), ('[["]]]]", "\\"[["]]', 2),
    ('{"a\\\\": [[]]}', 3),
])
def test_depth_counts_brackets_outside_strings(text, levels):
    assert depth(text) == levels


def test_the_deepest_body_allowed_is_parsed():
    assert parse_json_body(nested(MAX_DEPTH).encode()) == json.loads(nested(MAX_DEPTH))


@pytest.mark.parametrize("body", [nested(MAX_DEPTH + 1), nested(100_000), "[" * 1_000_000,
                                  '{"a":' * (MAX_DEPTH + 1) + "1" + "}" * (MAX_DEPTH + 1)])
def test_a_body_nested_deeper_is_refused_before_parsing(body):
    with pytest.raises(InputError) as refused:
        parse_json_body(body.encode())

    assert refused.value.message == f"The request body is nested more than {MAX_DEPTH} levels deep."
    assert set(refused.value.details) == {"body"}


def test_brackets_inside_strings_do_not_count():
    body = json.dumps({"street": "[" * 1000 + "{" * 1000})

    assert parse_json_body(body.encode()) == json.loads(body)


@pytest.mark.parametrize("body", [b"", b"{", b"\xff\xfe\xff", b'"' + b'\\"' * 1000, b'{"a": 1}}'])
def test_what_is_not_json_is_refused_with_a_sentence(body):
    with pytest.raises(InputError, match="The request body is not valid JSON."):
        parse_json_body(body)


def test_encodings_are_detected_as_json_loads_detects_them():
    assert parse_json_body('{"city": "Köln"}'.encode("utf-16")) == {"city": "Köln"}


def test_json_from_elsewhere_nested_too_deep_is_a_value_error_of_its_own():
    with pytest.raises(TooDeep):
        loads(nested(100_000))
    assert loads(nested(MAX_DEPTH)) == json.loads(nested(MAX_DEPTH))
