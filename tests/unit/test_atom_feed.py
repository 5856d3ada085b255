"""The Atom document the order service publishes, and how a follower reads one."""
from __future__ import annotations

import calendar
from datetime import datetime, timedelta, timezone

import feedparser
import pytest
from lxml import etree

from common.feed.following import FeedError, parse_feed
from common.feed.publishing import Entry, Feed, render_atom

ATOM = "{http://www.w3.org/2005/Atom}"
FEED_URL = "http://shop.example/order/feed"
UTC = timezone.utc


def order_entry(number: int, updated: datetime) -> Entry:
    url = f"http://shop.example/order/{number}"
    return Entry(
        id=f"tag:microservice-atom,2026:order/{number}", title=f"Order {number}", updated=updated,
        summary=f"Eberhard Wolff ordered {number} items for 42.00.",
        content_src=url, content_type="application/json", alternate_href=url,
    )


# Newest first, as the order service lists them; one in another time zone.
ENTRIES = [
    order_entry(3, datetime(2026, 11, 22, 10, 15, 30, 123456, tzinfo=UTC)),
    order_entry(2, datetime(2026, 11, 22, 10, 0, 0, tzinfo=timezone(timedelta(hours=2)))),
    order_entry(1, datetime(2026, 11, 21, 23, 59, 59, 500000, tzinfo=UTC)),
]
FEED = Feed(id="tag:microservice-atom,2026:orders", title="Orders", author="Order service",
            self_url=FEED_URL, updated=ENTRIES[0].updated, entries=ENTRIES)


@pytest.fixture(scope="module")
def document() -> bytes:
    return render_atom(FEED)


@pytest.fixture(scope="module")
def root(document):
    return etree.fromstring(document)


def test_the_feed_is_well_formed_atom_for_feedparser(document):
    parsed = feedparser.parse(document)

    assert not parsed.bozo, parsed.get("bozo_exception")
    assert parsed.version == "atom10"
    assert parsed.feed.id == FEED.id
    assert parsed.feed.title == "Orders"
    assert [(link.rel, link.href) for link in parsed.feed.links] == [("self", FEED_URL)]


def test_the_feed_names_itself_in_the_raw_xml(root):
    assert root.tag == f"{ATOM}feed"
    assert root.findtext(f"{ATOM}id") == FEED.id
    assert root.findtext(f"{ATOM}title") == "Orders"
    assert root.findtext(f"{ATOM}author/{ATOM}name") == "Order service"
    [self_link] = root.findall(f"{ATOM}link[@rel='self']")
    assert self_link.get("href") == FEED_URL
    assert self_link.get("type") == "application/atom+xml"
    assert datetime.fromisoformat(root.findtext(f"{ATOM}updated")) == FEED.updated


def test_entries_keep_the_given_order_newest_first(document, root):
    expected = [entry.id for entry in ENTRIES]

    assert [entry.id for entry in feedparser.parse(document).entries] == expected
    assert [entry.findtext(f"{ATOM}id") for entry in root.findall(f"{ATOM}entry")] == expected


def test_every_entry_carries_its_id_title_updated_and_summary(document):
    parsed = feedparser.parse(document).entries

    for got, given in zip(parsed, ENTRIES, strict=True):
        assert got.id == given.id
        assert got.title == given.title
        assert got.summary == given.summary
        # feedparser gives UTC struct_times: the instant survives, whatever the zone.
        assert calendar.timegm(got.updated_parsed) == int(given.updated.timestamp())


def test_updated_in_the_raw_xml_is_timezone_aware_and_exact(root):
    for element, given in zip(root.findall(f"{ATOM}entry"), ENTRIES, strict=True):
        updated = datetime.fromisoformat(element.findtext(f"{ATOM}updated"))
        assert updated.tzinfo is not None
        assert updated == given.updated


def test_every_entry_links_its_json_document_and_html_page(root):
    for element, given in zip(root.findall(f"{ATOM}entry"), ENTRIES, strict=True):
        [content] = element.findall(f"{ATOM}content")
        assert content.attrib == {"type": "application/json", "src": given.content_src}
        assert not (content.text or "").strip()
        alternates = [link.attrib for link in element.findall(f"{ATOM}link")
                      if link.get("rel") == "alternate"]
        assert alternates == [{"rel": "alternate", "type": "text/html", "href": given.alternate_href}]


def test_a_follower_gets_the_entries_oldest_first():
    entries = parse_feed(render_atom(FEED), FEED_URL)

    assert [entry.id for entry in entries] == [entry.id for entry in reversed(ENTRIES)]
    assert [entry.content_src for entry in entries] == [entry.content_src for entry in reversed(ENTRIES)]


def atom(*entries: str, prolog: str = "") -> bytes:
    return (f'<?xml version="1.0" encoding="utf-8"?>{prolog}'
            '<feed xmlns="http://www.w3.org/2005/Atom"><id>tag:x,2026:f</id><title>F</title>'
            '<updated>2026-11-22T10:00:00Z</updated>' + "".join(entries) + "</feed>").encode()


def atom_entry(number: int, src: str | None) -> str:
    content = f'<content type="application/json" src="{src}"/>' if src else "<content>text</content>"
    return (f"<entry><id>tag:x,2026:order/{number}</id><title>Order {number}</title>"
            f"<updated>2026-11-22T10:00:0{number}Z</updated><summary>s</summary>{content}</entry>")


def test_a_follower_resolves_relative_content_links_against_the_feed_url():
    body = atom(atom_entry(2, "/order/2"), atom_entry(1, "1"))

    entries = parse_feed(body, FEED_URL)

    assert [(entry.id, entry.content_src) for entry in entries] == [
        ("tag:x,2026:order/1", "http://shop.example/order/1"),
        ("tag:x,2026:order/2", "http://shop.example/order/2"),
    ]


def test_a_follower_refuses_a_document_type_declaration():
    bomb = '<!DOCTYPE feed [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;">]>'
    body = atom(atom_entry(1, "http://shop.example/order/1"), prolog=bomb)

    with pytest.raises(FeedError, match="document type"):
        parse_feed(body, FEED_URL)


def test_a_follower_refuses_a_bare_doctype_too():
    body = atom(atom_entry(1, "http://shop.example/order/1"), prolog="<!DOCTYPE feed>")

    with pytest.raises(FeedError, match="document type"):
        parse_feed(body, FEED_URL)


def test_a_follower_refuses_malformed_xml():
    body = atom(atom_entry(1, "http://shop.example/order/1")).replace(b"</feed>", b"")

    with pytest.raises(FeedError, match="not well-formed"):
        parse_feed(body, FEED_URL)


def test_a_follower_refuses_an_entry_without_a_content_link():
    body = atom(atom_entry(2, "http://shop.example/order/2"), atom_entry(1, None))

    with pytest.raises(FeedError, match="content link"):
        parse_feed(body, FEED_URL)
