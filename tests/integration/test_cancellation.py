"""Cancelling an order: the API, the web page, and the feed entry it adds."""
from __future__ import annotations

import feedparser
import lxml.html
import requests

from common.feed import POSITION_NS
from tests.support.orders import order_request
from tests.integration.support import cancel_order, place_order

JSON = {"Accept": "application/json"}


def feed_entries(base: str) -> list[tuple[int, str, str, str]]:
    """(position, id, title, content src) of each entry of /feed, as listed."""
    parsed = feedparser.parse(requests.get(base + "/feed", timeout=5).content)
    prefix = next(prefix for prefix, uri in parsed.namespaces.items() if uri == POSITION_NS)
    return [(int(entry[f"{prefix}_position"]), entry.id, entry.title, entry.content[0]["src"])
            for entry in parsed.entries]


def test_cancelling_answers_the_order_cancelled_in_its_next_version(order_url):
    placed = place_order(order_url, lines=((1, 2), (3, 1)))

    response = cancel_order(order_url, placed["id"])

    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/json")
    cancelled = response.json()
    assert (cancelled["status"], cancelled["version"]) == ("cancelled", 2)
    unchanged = {key: value for key, value in cancelled.items() if key not in ("status", "version", "updated")}
    assert unchanged == {key: placed[key] for key in unchanged}
    assert requests.get(f"{order_url}/{placed['id']}", headers=JSON, timeout=5).json() == cancelled


def test_cancelling_twice_is_a_conflict_and_changes_nothing(order_url):
    order = place_order(order_url)
    cancel_order(order_url, order["id"])
    etag = requests.get(order_url + "/feed", timeout=5).headers["ETag"]

    again = cancel_order(order_url, order["id"])

    assert again.status_code == 409
    assert again.json() == {"error": f"Order {order['id']} is already cancelled."}
    assert requests.get(order_url + "/feed", headers={"If-None-Match": etag}, timeout=5).status_code == 304
    assert requests.get(f"{order_url}/{order['id']}", headers=JSON, timeout=5).json()["version"] == 2


def test_cancelling_an_unknown_order_is_a_404(order_url):
    place_order(order_url)
    etag = requests.get(order_url + "/feed", timeout=5).headers["ETag"]

    response = cancel_order(order_url, 999)

    assert response.status_code == 404
    assert "999" in response.json()["error"]
    assert requests.get(order_url + "/feed", headers={"If-None-Match": etag}, timeout=5).status_code == 304


def test_a_cancellation_is_a_new_entry_at_the_next_position(order_url):
    first, second = place_order(order_url), place_order(order_url, customer_id=2)

    cancel_order(order_url, first["id"])

    tag = "tag:microservice-atom,2026:order"
    assert feed_entries(order_url) == [
        (3, f"{tag}/{first['id']}/version/2", f"Order {first['id']} cancelled",
         f"{order_url}/{first['id']}/versions/2"),
        (2, f"{tag}/{second['id']}/version/1", f"Order {second['id']} placed",
         f"{order_url}/{second['id']}/versions/1"),
        (1, f"{tag}/{first['id']}/version/1", f"Order {first['id']} placed",
         f"{order_url}/{first['id']}/versions/1"),
    ]


# --- from the web page ---------------------------------------------------------------------

def order_page(browser, path: str):
    response = browser.get(path)
    assert response.status_code == 200 and response.mimetype == "text/html"
    return lxml.html.fromstring(response.get_data(as_text=True))


def cancel_form(browser, order_id: int):
    """The form that cancels, on the page that asks first, reached from the order's page."""
    [link] = order_page(browser, f"/{order_id}").xpath("//a[normalize-space()='Cancel order…']")
    question = order_page(browser, link.get("href"))
    assert question.findtext(".//h1").strip() == f"Cancel order {order_id}?"
    assert "cannot be undone" in question.text_content()
    [form] = [form for form in question.forms
              if form.xpath(f".//button[normalize-space()='Cancel order {order_id}']")]
    return form


def test_cancelling_from_the_order_page_asks_first_then_says_it_is_done(browser):
    order_id = browser.post("/", json=order_request()).get_json()["id"]
    assert order_page(browser, f"/{order_id}").findtext(".//h1/span").strip() == "accepted"
    form = cancel_form(browser, order_id)

    response = browser.post(form.get("action"), data=dict(form.form_values()))

    assert response.status_code == 303
    page = order_page(browser, response.headers["Location"])
    assert page.findtext(".//h1/span").strip() == "cancelled"
    assert page.xpath("//*[@role='status']")[0].text_content().strip().startswith("The order has been cancelled.")
    assert response.headers["Location"].endswith(f"/{order_id}")  # the notice is not in the address
    assert page.xpath("//a[normalize-space()='Cancel order…']") == []
    assert [item.text_content().split()[0] for item in page.xpath("//ol[@class='history']/li")] == \
        ["Placed", "Cancelled"]
    listing = lxml.html.fromstring(browser.get("/").get_data(as_text=True))
    row = listing.xpath(f"//tr[.//a[normalize-space()='Order {order_id}']]")[0]
    assert "cancelled" in row.text_content()
    asked_again = order_page(browser, f"/{order_id}/cancel")
    assert asked_again.findtext(".//h1").strip() == f"Order {order_id} is already cancelled"
    assert asked_again.forms == []


def test_cancelling_again_from_an_old_page_says_why_not(browser):
    order_id = browser.post("/", json=order_request()).get_json()["id"]
    form = cancel_form(browser, order_id)
    assert browser.post(form.get("action"), data=dict(form.form_values())).status_code == 303

    response = browser.post(form.get("action"), data=dict(form.form_values()))  # the same button, from a page left open

    assert response.status_code == 409
    assert response.mimetype == "text/html"
    page = lxml.html.fromstring(response.get_data(as_text=True))
    assert page.xpath("//*[@role='alert']")[0].text_content().strip() == f"Order {order_id} is already cancelled."
    assert page.xpath("//a[normalize-space()='Cancel order…']") == []
    assert len(page.xpath("//ol[@class='history']/li")) == 2


def test_asking_to_cancel_an_unknown_order_is_a_404(browser):
    assert browser.get("/999/cancel").status_code == 404
