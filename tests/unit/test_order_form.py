"""The new-order form on the server: what was posted becomes an order request, and a
refused form says what is wrong, field by field, as links."""
from __future__ import annotations

from decimal import Decimal

from werkzeug.datastructures import MultiDict

from order.models import Item
from order.order_form import Problem, form_values, line_amounts, refusal, shown_errors

POSTED = {"customerId": "1", "shippingAddress.street": "Ohlauer Str. 43", "shippingAddress.zip": "10999",
          "shippingAddress.city": "Berlin", "billingAddress.street": "Krischerstr. 100",
          "billingAddress.zip": "40789", "billingAddress.city": "Monheim am Rhein",
          "lines-0-itemId": "1", "lines-0-count": "2"}
SHIPPING = {"street": "Ohlauer Str. 43", "zip": "10999", "city": "Berlin"}
CATALOG = [Item(id=1, name="iPod", price=Decimal("42.00")), Item(id=2, name="Cable", price=Decimal("0.10")),
           Item(id=3, name="Plug", price=Decimal("0.20"))]


def test_the_billing_address_is_the_shipping_address_when_the_box_is_ticked():
    form = form_values(MultiDict({**POSTED, "billingSameAsShipping": "yes"}))

    assert form["billingAddress"] == form["shippingAddress"] == SHIPPING
    assert form["billingSameAsShipping"] is True


def test_the_billing_address_is_as_typed_without_the_box():
    form = form_values(MultiDict(POSTED))

    assert form["billingAddress"] == {"street": "Krischerstr. 100", "zip": "40789", "city": "Monheim am Rhein"}
    assert form["billingSameAsShipping"] is False


def test_lines_numbered_with_gaps_are_read_in_their_order():
    posted = {**POSTED, "lines-7-itemId": "3", "lines-7-count": "1", "lines-3-itemId": "2", "lines-3-count": "5"}

    form = form_values(MultiDict(posted))

    assert form["lines"] == [{"itemId": "1", "count": "2"}, {"itemId": "2", "count": "5"},
                             {"itemId": "3", "count": "1"}]


def test_a_copied_billing_address_shows_no_problems_of_its_own():
    form = form_values(MultiDict({**POSTED, "shippingAddress.city": "", "billingSameAsShipping": "yes"}))
    errors = {"shippingAddress.city": "Enter the city of the shipping address.",
              "billingAddress.city": "Enter the city of the billing address."}

    assert shown_errors(form, errors) == {"shippingAddress.city": "Enter the city of the shipping address."}
    assert shown_errors(form_values(MultiDict(POSTED)), errors) == errors


def test_the_summary_counts_the_problems_and_links_each_to_its_field():
    form = form_values(MultiDict(POSTED))
    errors = {"customerId": "Choose a customer.", "billingAddress.zip": "Enter the ZIP code of the billing address.",
              "lines[1].count": "The count must be a whole number from 1 to 1000."}

    summary = refusal("The order was not placed", form, errors)

    assert summary.title == "The order was not placed: 3 problems"
    assert summary.problems == (
        Problem("customerId", "Customer: choose a customer."),
        Problem("billingAddress.zip", "Billing address: enter the ZIP code of the billing address."),
        Problem("lines-1-count", "Line 2: the count must be a whole number from 1 to 1000."))


def test_one_problem_is_one_problem_and_a_problem_of_all_lines_links_to_the_first():
    summary = refusal("No line was added", form_values(MultiDict(POSTED)), {"lines": "An order has at most 100 lines."})

    assert summary.title == "No line was added: 1 problem"
    assert summary.problems == (Problem("lines-0-itemId", "Lines: an order has at most 100 lines."),)


def test_line_amounts_are_exact_and_only_where_item_and_count_are_known():
    form = {"lines": [{"itemId": "2", "count": "3"}, {"itemId": "3", "count": " 1 "}, {"itemId": "", "count": "2"},
                      {"itemId": "1", "count": "0"}, {"itemId": "1", "count": "1001"}, {"itemId": "9", "count": "1"}]}

    amounts, total = line_amounts(form, CATALOG)

    assert amounts == [Decimal("0.30"), Decimal("0.20"), None, None, None, None]
    assert str(total) == "0.50"


def test_the_total_of_no_known_line_is_zero_with_cents():
    amounts, total = line_amounts({"lines": [{"itemId": "", "count": "1"}]}, CATALOG)

    assert amounts == [None] and str(total) == "0.00"
