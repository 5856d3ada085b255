"""The new-order form as a browser without script gets it: the problems listed as links
to their fields, where focus starts after adding or removing a line, the amounts, and
the billing address taken from the shipping address."""
from __future__ import annotations

import lxml.html
import pytest

from tests.integration.support import post_form
from tests.support.orders import order_form


def page_of(response):
    return lxml.html.fromstring(response.get_data(as_text=True))


def test_a_refused_form_lists_its_problems_as_links_to_fields_and_starts_there(browser):
    response = post_form(browser, order_form(**{"customerId": "", "shippingAddress.zip": "", "lines-0-count": "0"}))

    page = page_of(response)
    summary = page.get_element_by_id("error-summary")
    assert summary.get("tabindex") == "-1" and summary.get("autofocus") is not None
    assert summary.xpath("string(.//h2)") == "The order was not placed: 3 problems"
    links = [(link.get("href"), link.text_content()) for link in summary.xpath(".//a")]
    assert links == [("#customerId", "Customer: choose a customer."),
                     ("#shippingAddress.zip", "Shipping address: enter the ZIP code of the shipping address."),
                     ("#lines-0-count", "Line 1: the count must be a whole number from 1 to 1000.")]
    for href, _ in links:
        assert page.get_element_by_id(href[1:]).tag in ("input", "select")
    assert "was not accepted" not in response.get_data(as_text=True)
    assert len(page.xpath("//*[@autofocus]")) == 1


def test_the_box_same_as_shipping_bills_the_shipping_address(browser):
    response = post_form(browser, order_form(**{"billingAddress.street": "", "billingAddress.city": "",
                                               "billingSameAsShipping": "yes"}))

    assert response.status_code == 303
    order = browser.get("/", headers={"Accept": "application/json"}).get_json()[0]
    assert order["billingAddress"] == order["shippingAddress"]


def test_a_refused_form_keeps_the_box_ticked_and_names_no_problem_of_the_copied_address(browser):
    response = post_form(browser, order_form(**{"shippingAddress.city": "", "billingSameAsShipping": "yes"}))

    page = page_of(response)
    assert page.get_element_by_id("billingSameAsShipping").get("checked") is not None
    assert page.get_element_by_id("error-summary").xpath("string(.//h2)") == "The order was not placed: 1 problem"
    assert page.get_element_by_id("billingAddress.city").get("aria-invalid") is None


@pytest.mark.parametrize(("action", "focused"), [("add-line", "lines-2-itemId"), ("remove-line-0", "lines-0-itemId"),
                                                 ("remove-line-1", "add-line")])
def test_after_adding_or_removing_a_line_focus_starts_where_the_form_goes_on(browser, action, focused):
    response = post_form(browser, order_form(**{"lines-1-itemId": "4", "lines-1-count": "2", "action": action}))

    assert page_of(response).xpath("//*[@autofocus]/@id") == [focused]


def test_the_page_shows_each_line_amount_and_the_total(browser):
    response = post_form(browser, order_form(**{"lines-1-itemId": "4", "lines-1-count": "2", "lines-2-count": "1",
                                               "action": "add-line"}))

    page = page_of(response)
    amounts = [page.get_element_by_id(f"lines-{n}-amount").text_content() for n in range(4)]
    assert amounts == ["63.00 EUR", "200.00 EUR", "–", "–"]
    assert page.get_element_by_id("order-total").text_content() == "263.00 EUR"


def test_the_order_placed_is_shown_with_a_notice_once_and_the_address_carries_none(browser):
    response = post_form(browser, order_form())

    assert response.status_code == 303
    order_id = browser.get("/", headers={"Accept": "application/json"}).get_json()[0]["id"]
    assert response.headers["Location"] == f"/{order_id}"
    notices = [page_of(browser.get(response.headers["Location"], headers={"Accept": "text/html"}))
               .xpath("string(//*[@role='status'])").strip() for _ in range(2)]
    assert notices[0].startswith("The order has been placed.") and notices[1] == ""  # a reload: no notice
