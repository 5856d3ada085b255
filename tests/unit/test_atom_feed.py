"""The Atom documents the order service publishes (a page of an RFC 5005 archived
feed), and how a follower reads one."""
from __future__ import annotations

import calendar
from datetime import datetime, timedelta, timezone

import feedparser
import pytest
from lxml import etree

from common.feed import HISTORY_NS, POSITION_NS
from common.feed.client import FeedError
from common.feed.parsing import parse_page
from common.feed.publishing import Entry, Feed, render_atom

ATOM = "{http://www.w3.org/2005/Atom}"
FH = f"{{{HISTORY_NS}}}"
POSITION = f"{{{POSITION_NS}}}position"
FEED_URL = "http://shop.example/order/feed"
ARCHIVE_URL = "http://shop.example/order/feed/archive/{}"
UTC = timezone.utc


def order_entry(number: int, updated: datetime, position: int, version: int = 1) -> Entry:
    url = f"http://shop.example/order/{number}"
    event = "placed" if version == 1 else "cancelled"
    return Entry(
        id=f"tag:microservice-atom,2026:order/{number}/version/{version}", title=f"Order {number} {event}",
        updated=updated, summary=f"Eberhard Wolff ordered {number} items for 42.00.",
        content_src=url, content_type="application/json", alternate_href=url, position=position,
    )


# Newest first, as the order service lists them; one in another time zone; order 1
# appears twice, placed and cancelled.
ENTRIES = [
    order_entry(1, datetime(2026, 11, 22, 10, 15, 30, 123456, tzinfo=UTC), position=6, version=2),
    order_entry(2, datetime(2026, 11, 22, 10, 0, 0, tzinfo=timezone(timedelta(hours=2))), position=5),
    order_entry(1, datetime(2026, 11, 21, 23, 59, 59, 500000, tzinfo=UTC), position=4),
]
# The subscription document of a feed with one full archive page before it.
FEED = Feed(id="tag:microservice-atom,2026:orders", title="Orders", author="Order service",
            self_url=FEED_URL, updated=ENTRIES[0].updated, entries=ENTRIES,
            links=[("current", FEED_URL), ("prev-archive", ARCHIVE_URL.format(1))])
# The same entries as a full archive page (page 2 of pages of 3).
ARCHIVE = Feed(id=FEED.id, title="Orders", author="Order service", self_url=ARCHIVE_URL.format(2),
               updated=ENTRIES[0].updated, entries=ENTRIES, archive=True,
               links=[("current", FEED_URL), ("prev-archive", ARCHIVE_URL.format(1)),
                      ("next-archive", ARCHIVE_URL.format(3))])


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
    assert [(link.rel, link.href) for link in parsed.feed.links] == [
        ("self", FEED_URL), ("current", FEED_URL), ("prev-archive", ARCHIVE_URL.format(1))]


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


def test_every_entry_carries_its_position_in_the_feed(root):
    positions = [entry.findtext(POSITION) for entry in root.findall(f"{ATOM}entry")]

    assert positions == ["6", "5", "4"]


def test_the_typed_links_and_links_between_pages_are_atom_links(root):
    links = {link.get("rel"): link.attrib for link in root.findall(f"{ATOM}link")}

    assert set(links) == {"self", "current", "prev-archive"}
    assert links["prev-archive"] == {"href": ARCHIVE_URL.format(1), "rel": "prev-archive",
                                     "type": "application/atom+xml"}
    assert links["current"]["href"] == FEED_URL


def test_the_subscription_document_is_not_marked_as_an_archive(root):
    assert root.findall(f"{FH}archive") == []


def test_an_archive_page_is_marked_with_fh_archive_and_links_both_ways():
    root = etree.fromstring(render_atom(ARCHIVE))

    [marker] = root.findall(f"{FH}archive")
    assert len(marker) == 0 and not (marker.text or "").strip()
    links = {link.get("rel"): link.get("href") for link in root.findall(f"{ATOM}link")}
    assert links == {"self": ARCHIVE_URL.format(2), "current": FEED_URL,
                     "prev-archive": ARCHIVE_URL.format(1), "next-archive": ARCHIVE_URL.format(3)}
    assert [entry.findtext(POSITION) for entry in root.findall(f"{ATOM}entry")] == ["6", "5", "4"]


def test_an_archive_page_is_well_formed_atom_for_feedparser():
    parsed = feedparser.parse(render_atom(ARCHIVE))

    assert not parsed.bozo, parsed.get("bozo_exception")
    assert [entry.id for entry in parsed.entries] == [entry.id for entry in ENTRIES]


def test_a_follower_gets_the_entries_oldest_first_with_their_positions():
    page = parse_page(render_atom(FEED), FEED_URL)

    assert [entry.id for entry in page.entries] == [entry.id for entry in reversed(ENTRIES)]
    assert [entry.content_src for entry in page.entries] == [entry.content_src for entry in reversed(ENTRIES)]
    assert [entry.position for entry in page.entries] == [4, 5, 6]


def test_a_follower_finds_the_page_before():
    assert parse_page(render_atom(FEED), FEED_URL).prev_archive == ARCHIVE_URL.format(1)
    assert parse_page(render_atom(ARCHIVE), ARCHIVE_URL.format(2)).prev_archive == ARCHIVE_URL.format(1)


def test_the_first_page_has_no_page_before():
    first = Feed(id=FEED.id, title="Orders", author="Order service", self_url=FEED_URL,
                 updated=ENTRIES[0].updated, entries=ENTRIES, links=[("current", FEED_URL)])

    assert parse_page(render_atom(first), FEED_URL).prev_archive is None


def atom(*entries: str, prolog: str = "", prefix: str = "p", links: str = "") -> bytes:
    return (f'<?xml version="1.0" encoding="utf-8"?>{prolog}'
            f'<feed xmlns="http://www.w3.org/2005/Atom" xmlns:{prefix}="{POSITION_NS}">'
            '<id>tag:x,2026:f</id><title>F</title>'
            '<updated>2026-11-22T10:00:00Z</updated>' + links + "".join(entries) + "</feed>").encode()


def atom_entry(number: int, src: str | None, position: str | None = None, prefix: str = "p") -> str:
    content = f'<content type="application/json" src="{src}"/>' if src else "<content>text</content>"
    position = str(number) if position is None else position
    place = f"<{prefix}:position>{position}</{prefix}:position>" if position else ""
    return (f"<entry><id>tag:x,2026:order/{number}</id><title>Order {number}</title>"
            f"<updated>2026-11-22T10:00:0{number}Z</updated><summary>s</summary>{content}{place}</entry>")


def test_a_follower_resolves_relative_links_against_the_page_url():
    body = atom(atom_entry(2, "/order/2"), atom_entry(1, "1"),
                links='<link rel="prev-archive" href="feed/archive/7"/>')

    page = parse_page(body, FEED_URL)

    assert [(entry.id, entry.content_src) for entry in page.entries] == [
        ("tag:x,2026:order/1", "http://shop.example/order/1"),
        ("tag:x,2026:order/2", "http://shop.example/order/2"),
    ]
    assert page.prev_archive == "http://shop.example/order/feed/archive/7"


def test_a_follower_reads_positions_whatever_prefix_the_document_chose():
    body = atom(atom_entry(9, "/order/9", prefix="seq"), atom_entry(8, "/order/8", prefix="seq"), prefix="seq")

    assert [entry.position for entry in parse_page(body, FEED_URL).entries] == [8, 9]


def test_a_follower_orders_entries_by_position_not_by_their_place_in_the_document():
    body = atom(atom_entry(1, "/order/1", position="11"), atom_entry(3, "/order/3", position="13"),
                atom_entry(2, "/order/2", position="12"))

    assert [entry.id[-1] for entry in parse_page(body, FEED_URL).entries] == ["1", "2", "3"]


@pytest.mark.parametrize("position", ["", "x", "-1", "1.5", "\u0663", "2147483648"],
                         ids=["none", "word", "negative", "fraction", "arabic-indic", "past-the-integer"])
def test_a_follower_refuses_an_entry_without_a_whole_position(position):
    body = atom(atom_entry(2, "/order/2"), atom_entry(1, "/order/1", position=position))

    with pytest.raises(FeedError, match="position"):
        parse_page(body, FEED_URL)


def test_a_follower_refuses_a_document_type_declaration():
    bomb = '<!DOCTYPE feed [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;">]>'
    body = atom(atom_entry(1, "http://shop.example/order/1"), prolog=bomb)

    with pytest.raises(FeedError, match="document type"):
        parse_page(body, FEED_URL)


def test_a_follower_refuses_a_bare_doctype_too():
    body = atom(atom_entry(1, "http://shop.example/order/1"), prolog="<!DOCTYPE feed>")

    with pytest.raises(FeedError, match="document type"):
        parse_page(body, FEED_URL)


def test_a_follower_refuses_malformed_xml():
    body = atom(atom_entry(1, "http://shop.example/order/1")).replace(b"</feed>", b"")

    with pytest.raises(FeedError, match="not well-formed"):
        parse_page(body, FEED_URL)


def test_a_follower_refuses_an_entry_without_a_content_link():
    body = atom(atom_entry(2, "http://shop.example/order/2"), atom_entry(1, None))

    with pytest.raises(FeedError, match="content link"):
        parse_page(body, FEED_URL)
