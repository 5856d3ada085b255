"""What a person sees of a service that holds nothing yet: what to do next."""
from __future__ import annotations

import lxml.html
import pytest

from tests.integration.support import BROWSER_ACCEPT


def start_page(app):
    response = app.test_client().get("/", headers={"Accept": BROWSER_ACCEPT})
    assert response.status_code == 200
    return lxml.html.fromstring(response.get_data(as_text=True))


def empty_state(page) -> tuple[str, list[str]]:
    """The text of the page's empty state and where its links lead."""
    [empty] = page.xpath("//*[contains(@class, 'empty')]")
    return " ".join(empty.text_content().split()), empty.xpath(".//a/@href")


def test_no_orders_yet_leads_to_the_new_order_form(order_app):
    text, links = empty_state(start_page(order_app))

    assert text.startswith("No orders yet.")
    assert "/new" in links


@pytest.mark.parametrize("service, things", [("invoicing", "invoices"), ("shipping", "shipments")])
def test_no_imports_yet_points_to_the_order_service_and_poll_now(consumer_app, service, things):
    page = start_page(consumer_app(service, "http://127.0.0.1:9/feed"))
    text, links = empty_state(page)

    assert text.startswith(f"No {things} yet.")
    assert "/order/" in links and '"Poll now"' in text
    assert page.xpath("//button[normalize-space()='Poll now']")
    assert not page.xpath("//table[contains(@class, 'list')]")
