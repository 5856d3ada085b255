"""What the order service says about a bad order request, field by field."""
from __future__ import annotations

import re

import pytest

from common.errors import InputError
from order.models import Address
from order.service import InvalidOrder, parse_order_request
from tests.support.orders import order_request

SENTENCE = re.compile(r"^[A-Z].*[a-z0-9)]\.$")


def problems_of(data) -> dict[str, str]:
    problems: dict[str, str] = {}
    result = parse_order_request(data, problems)
    assert (result is None) == bool(problems)
    return problems


def assert_sentences(problems: dict[str, str]) -> None:
    for key, message in problems.items():
        assert SENTENCE.match(message), f"{key}: {message!r} is not a sentence"


def with_line(**line) -> dict:
    data = order_request()
    data["lines"] = [line]
    return data


def test_a_valid_request_is_parsed():
    problems: dict[str, str] = {}

    request = parse_order_request(order_request(customer_id=2, lines=((1, 2), (4, 1))), problems)

    assert problems == {}
    assert request.customer_id == 2
    assert request.shipping_address == Address("Ohlauer Str. 43", "10999", "Berlin")
    assert request.billing_address == Address("Krischerstr. 100", "40789", "Monheim am Rhein")
    assert request.lines == [(1, 2), (4, 1)]


def test_numbers_as_a_form_sends_them_are_accepted():
    data = order_request()
    data["customerId"] = "1"
    data["lines"] = [{"itemId": "3", "count": " 5 "}]
    problems: dict[str, str] = {}

    request = parse_order_request(data, problems)

    assert problems == {}
    assert (request.customer_id, request.lines) == (1, [(3, 5)])


@pytest.mark.parametrize("data", [[order_request()], "an order", None])
def test_a_body_that_is_not_an_object_is_refused(data):
    problems = problems_of(data)

    assert problems == {"body": "The order must be a JSON object."}


@pytest.mark.parametrize("lines", [[], None, "1x iPod", {"itemId": 1, "count": 1}])
def test_an_order_needs_a_list_of_lines(lines):
    data = order_request()
    data["lines"] = lines

    problems = problems_of(data)

    assert problems == {"lines": "Add at least one line to the order."}


def test_an_order_without_a_lines_field_is_refused():
    data = order_request()
    del data["lines"]

    assert problems_of(data) == {"lines": "Add at least one line to the order."}


def test_an_order_has_at_most_100_lines():
    data = order_request(lines=[(1, 1)] * 101)

    assert set(problems_of(data)) == {"lines"}
    assert problems_of(order_request(lines=[(1, 1)] * 100)) == {}


@pytest.mark.parametrize("count", [0, -1, 1001, 2.5, True, "abc", None, "2.5"])
def test_a_count_must_be_a_whole_number_from_1_to_1000(count):
    problems = problems_of(with_line(itemId=1, count=count))

    assert problems == {"lines[0].count": "The count must be a whole number from 1 to 1000."}


@pytest.mark.parametrize("count", [1, 1000])
def test_the_limits_of_a_count_are_allowed(count):
    assert problems_of(with_line(itemId=1, count=count)) == {}


def test_a_line_needs_an_item():
    problems = problems_of(with_line(count=2))

    assert problems == {"lines[0].itemId": "Choose an item."}


def test_problems_name_the_line_they_are_in():
    data = order_request(lines=((1, 1), (2, 1), (3, 1)))
    data["lines"][1] = {"itemId": False, "count": 0}
    data["lines"][2] = "not a line"

    problems = problems_of(data)

    assert set(problems) == {"lines[1].itemId", "lines[1].count", "lines[2].itemId", "lines[2].count"}
    assert_sentences(problems)


@pytest.mark.parametrize("address, label", [("shippingAddress", "shipping address"),
                                            ("billingAddress", "billing address")])
@pytest.mark.parametrize("part, name", [("street", "street"), ("zip", "ZIP code"), ("city", "city")])
@pytest.mark.parametrize("how", ["missing", "blank", "not text"])
def test_every_address_field_is_required(address, label, part, name, how):
    data = order_request()
    if how == "missing":
        del data[address][part]
    else:
        data[address][part] = "   " if how == "blank" else 10999

    problems = problems_of(data)

    assert problems == {f"{address}.{part}": f"Enter the {name} of the {label}."}


@pytest.mark.parametrize("address, label", [("shippingAddress", "shipping address"),
                                            ("billingAddress", "billing address")])
@pytest.mark.parametrize("part, name", [("street", "street"), ("zip", "ZIP code"), ("city", "city")])
def test_every_address_field_takes_only_plain_text(address, label, part, name):
    for value, problem in [("10\x0099", "contains a control character"),
                           ("\u202e99901", "contains a character that changes the direction of the text"),
                           ("\u200b\u200b", None)]:
        data = order_request()
        data[address][part] = value

        expected = f"The {name} of the {label} {problem}." if problem else f"Enter the {name} of the {label}."
        assert problems_of(data) == {f"{address}.{part}": expected}


def test_address_text_is_stored_trimmed_and_composed():
    data = order_request()
    data["shippingAddress"]["street"] = " Gru\u0308ner Weg 7 "
    problems: dict[str, str] = {}

    request = parse_order_request(data, problems)

    assert problems == {}
    assert request.shipping_address.street == "Gr\u00fcner Weg 7"


@pytest.mark.parametrize("address", ["shippingAddress", "billingAddress"])
@pytest.mark.parametrize("part, limit", [("street", 200), ("zip", 20), ("city", 100)])
def test_address_fields_have_a_length_limit(address, part, limit):
    data = order_request()
    data[address][part] = "x" * limit
    assert problems_of(data) == {}

    data[address][part] = "x" * (limit + 1)
    problems = problems_of(data)

    assert list(problems) == [f"{address}.{part}"]
    assert f"more than {limit} characters" in problems[f"{address}.{part}"]
    assert_sentences(problems)


@pytest.mark.parametrize("address", ["shippingAddress", "billingAddress"])
@pytest.mark.parametrize("value", [None, "Berlin", ["Ohlauer Str. 43", "10999", "Berlin"]])
def test_an_address_that_is_not_an_object_names_each_field(address, value):
    data = order_request()
    data[address] = value

    problems = problems_of(data)

    assert set(problems) == {f"{address}.street", f"{address}.zip", f"{address}.city"}
    assert_sentences(problems)


@pytest.mark.parametrize("customer", ["missing", True, None, "Wolff", -1, 1.0, "\u0663", "\u00b2", "2147483648",
                                      2**31, "1" * 5000])
def test_an_order_needs_a_customer(customer):
    data = order_request()
    if customer == "missing":
        del data["customerId"]
    else:
        data["customerId"] = customer

    assert problems_of(data) == {"customerId": "Choose a customer."}


def test_every_problem_is_reported_at_once_in_sentences():
    problems = problems_of({"customerId": True, "shippingAddress": {"zip": "1" * 21},
                            "lines": [{"itemId": 1, "count": 0}]})

    assert set(problems) == {
        "customerId",
        "shippingAddress.street", "shippingAddress.zip", "shippingAddress.city",
        "billingAddress.street", "billingAddress.zip", "billingAddress.city",
        "lines[0].count",
    }
    assert_sentences(problems)


def test_one_problem_is_the_error_message_itself():
    details = {"shippingAddress.zip": "Enter the ZIP code of the shipping address."}

    error = InputError.from_details("The order", details)

    assert error.message == "Enter the ZIP code of the shipping address."
    assert str(error) == error.message
    assert error.details == details


def test_several_problems_are_summed_up_in_one_sentence():
    details = {"customerId": "Choose a customer.", "lines": "Add at least one line to the order."}

    error = InvalidOrder.from_details("The order", details)

    assert isinstance(error, InvalidOrder)
    assert error.message == "The order was not accepted: 2 fields need correcting."
    assert error.details == details
