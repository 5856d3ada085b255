"""X-Forwarded-* and Forwarded headers shape links only when a trusted proxy sends
them (TRUSTED_PROXIES): from anyone else they would poison the archive pages that
shared caches keep for a year. Over live HTTP, so the peer's address is real."""
from __future__ import annotations

from ipaddress import ip_network

import pytest
import requests
from gunicorn.config import Config
from lxml import etree

from common.proxies import TrustedProxyFix
from common.settings import ConfigurationError, Settings
from msatom import gunicorn_conf
from tests.conftest import live_server
from tests.support.orders import order_request

SPOOFED = {"X-Forwarded-Host": "evil.example", "X-Forwarded-Proto": "https", "X-Forwarded-Port": "6666",
           "X-Forwarded-Prefix": "/poisoned", "X-Forwarded-For": "203.0.113.66",
           "Forwarded": "for=203.0.113.66;host=evil.example;proto=https"}
POISONED = "https://evil.example:6666/poisoned/"
LOOPBACK = (ip_network("127.0.0.1"),)


def http() -> requests.Session:
    session = requests.Session()
    session.trust_env = False  # nothing between the test and loopback
    return session


def links(base_url: str, headers: dict[str, str]) -> dict[str, list[str]]:
    """Every absolute URL the order service writes, asked with `headers`: the
    Location of a new order and every href and src in /feed and /feed/archive/1."""
    session = http()
    found: dict[str, list[str]] = {}
    for _ in range(5):  # with 2 entries a page: archives 1 and 2 full, the feed holds the fifth
        placed = session.post(f"{base_url}/", json=order_request(), headers=headers, timeout=5)
        assert placed.status_code == 201, placed.text
        found.setdefault("Location", []).append(placed.headers["Location"])
    for path in ("/feed", "/feed/archive/1"):
        response = session.get(f"{base_url}{path}", headers=headers, timeout=5)
        assert response.status_code == 200, response.text
        found[path] = etree.fromstring(response.content).xpath("//@href | //@src")
    assert found["/feed"] and found["/feed/archive/1"]
    return found


def all_start_with(found: dict[str, list[str]], prefix: str) -> bool:
    return all(url.startswith(prefix) for urls in found.values() for url in urls)


def test_forwarded_headers_from_an_untrusted_peer_change_no_link(make_app, settings_for):
    app = make_app("order", settings_for("order", feed_page_size=2))

    with live_server(app) as url:
        found = links(url, SPOOFED)

    assert all_start_with(found, f"{url}/"), found


def test_forwarded_headers_from_a_trusted_proxy_shape_the_links(make_app, settings_for):
    app = make_app("order", settings_for("order", feed_page_size=2, trusted_proxies=LOOPBACK,
                                         public_url=("https://evil.example:6666",)))

    with live_server(app) as url:
        found = links(url, SPOOFED)

    assert all_start_with(found, POISONED), found
    assert found["Location"][0].startswith(f"{POISONED}1")


def test_a_trusted_network_elsewhere_does_not_trust_this_peer(make_app, settings_for):
    app = make_app("order", settings_for("order", feed_page_size=2,
                                         trusted_proxies=(ip_network("127.0.0.2"), ip_network("::1"))))

    with live_server(app) as url:
        found = links(url, SPOOFED)

    assert all_start_with(found, f"{url}/"), found


def test_a_host_that_no_setting_names_is_refused_and_loopback_hosts_are_served(make_app, settings_for):
    client = make_app("order", settings_for("order")).test_client()

    for host in ("evil.example", "evil.example:8080", "127.0.0.1.evil.example", "localhost.evil.example"):
        refused = client.get("/feed", headers={"Host": host})
        assert refused.status_code == 400
        assert refused.text == ("This service answers only for the origins in its PUBLIC_URL setting; none is set, "
                                "so only for loopback hosts such as 127.0.0.1 and localhost.\n")
    for host in ("localhost", "LOCALHOST:8080", "127.0.0.1:5000", "127.1.2.3", "[::1]:8080"):
        assert client.get("/feed", headers={"Host": host}).status_code == 200, host


def test_a_host_that_public_url_leaves_out_gets_the_links_of_the_first_origin_it_lists(make_app, settings_for):
    app = make_app("order", settings_for("order", feed_page_size=2,
                                         public_url=("https://shop.example", "http://order:8080")))

    with live_server(app) as url:
        made_up = links(url, {"Host": "evil.example"})
        internal = links(url, {"Host": "order:8080"})

    assert all_start_with(made_up, "https://shop.example/"), made_up
    assert all_start_with(internal, "http://order:8080/"), internal


def test_public_url_is_read_as_origins_and_anything_else_is_refused_with_a_sentence():
    read = Settings.from_env("order", {"PUBLIC_URL": " HTTPS://Shop.Example:443/ , http://order:8080"}).public_url
    assert read == ("https://shop.example", "http://order:8080")
    for value in ("shop.example", "https://shop.example/order", "ftp://shop.example", "https://:80",
                  "https://shop.example:port"):
        with pytest.raises(ConfigurationError, match="is not an origin such as https://shop.example"):
            Settings.from_env("order", {"PUBLIC_URL": value})


# --- the middleware and the setting ----------------------------------------------------------

def seen_by_app(networks, remote_addr: str, **headers: str) -> dict:
    """The environ the app gets behind TrustedProxyFix, from a peer at `remote_addr`."""
    seen = {}

    def app(environ, start_response):
        seen.update(environ)
        return []

    environ = {"REMOTE_ADDR": remote_addr, "HTTP_HOST": "shop.example", "SERVER_NAME": "shop.example",
               "SERVER_PORT": "80", "SCRIPT_NAME": "", "wsgi.url_scheme": "http",
               **{"HTTP_" + name.upper().replace("-", "_"): value for name, value in headers.items()}}
    TrustedProxyFix(app, networks)(environ, lambda *args: None)
    return seen


@pytest.mark.parametrize("remote_addr, networks", [
    ("10.1.2.3", ()),
    ("10.1.2.3", (ip_network("10.1.3.0/24"),)),
    ("2001:db8::1", (ip_network("10.0.0.0/8"),)),
    ("", (ip_network("10.0.0.0/8"),)),  # a Unix socket's peer
])
def test_an_untrusted_peer_loses_every_forwarded_header(remote_addr, networks):
    environ = seen_by_app(networks, remote_addr, **SPOOFED, **{"X-Forwarded-Ssl": "on"})

    assert not [key for key in environ if key.startswith("HTTP_X_FORWARDED") or key == "HTTP_FORWARDED"]
    assert (environ["HTTP_HOST"], environ["wsgi.url_scheme"], environ["SCRIPT_NAME"]) == ("shop.example", "http", "")
    assert environ["REMOTE_ADDR"] == remote_addr


@pytest.mark.parametrize("remote_addr, networks", [
    ("10.1.2.3", (ip_network("10.0.0.0/8"),)),
    ("::ffff:10.1.2.3", (ip_network("10.1.2.3"),)),  # an IPv4 peer on a dual-stack socket
    ("fd00::5", (ip_network("192.0.2.1"), ip_network("fd00::/8"))),
])
def test_a_trusted_peer_sets_host_scheme_port_prefix_and_client(remote_addr, networks):
    environ = seen_by_app(networks, remote_addr, **SPOOFED)

    assert (environ["HTTP_HOST"], environ["wsgi.url_scheme"], environ["SCRIPT_NAME"], environ["REMOTE_ADDR"]) == \
        ("evil.example:6666", "https", "/poisoned", "203.0.113.66")


def test_trusted_proxies_come_from_the_environment():
    settings = Settings.from_env("order", {"TRUSTED_PROXIES": " 127.0.0.2, 10.0.0.0/8,,fd00::/8 ,::1"})

    assert settings.trusted_proxies == (ip_network("127.0.0.2"), ip_network("10.0.0.0/8"),
                                        ip_network("fd00::/8"), ip_network("::1"))
    assert Settings.from_env("order", {}).trusted_proxies == ()
    assert Settings.from_env("order", {"TRUSTED_PROXIES": " "}).trusted_proxies == ()


@pytest.mark.parametrize("value, named", [
    ("apache", "'apache'"), ("10.0.0.300", "'10.0.0.300'"), ("10.0.0.5/24", "'10.0.0.5/24'"),
    ("127.0.0.2, *", "'*'"), ("127.0.0.2;10.0.0.1", "'127.0.0.2;10.0.0.1'"),
])
def test_a_bad_trusted_proxies_value_is_refused_with_one_sentence_naming_it(value, named):
    with pytest.raises(ConfigurationError) as refused:
        Settings.from_env("order", {"TRUSTED_PROXIES": value})

    message = str(refused.value)
    assert message.startswith("TRUSTED_PROXIES=") and named in message
    assert message.count(". ") == 0 and message.endswith(".")


def test_gunicorn_acts_on_no_forwarded_header():
    """Its defaults believe X-Forwarded-Proto from 127.0.0.1 and map a SCRIPT_NAME
    header; our settings leave the decision to common/proxies.py."""
    config = Config()
    for name in ("forwarded_allow_ips", "secure_scheme_headers", "forwarder_headers"):
        config.set(name, getattr(gunicorn_conf, name))

    assert config.forwarded_allow_ips == []
    assert config.secure_scheme_headers == {}
    assert config.forwarder_headers == []
