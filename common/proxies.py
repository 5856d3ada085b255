"""Forwarded headers (X-Forwarded-*, Forwarded) believed only from the proxies we run.

Every absolute link a service writes (the feed's links, `Location`) follows the host,
scheme, port and path prefix of the request, and behind Apache those arrive as
X-Forwarded-Host, -Proto, -Port and -Prefix. Any client can send the same headers. A
service that believed them from everyone would let one request put links to another
site into an archive page, which is served `public, immutable` for a year: every
shared cache on the way would hand the poisoned page to everyone for that long.

So werkzeug's ProxyFix applies only to requests whose peer (REMOTE_ADDR) lies within
TRUSTED_PROXIES; from any other peer every X-Forwarded-* and Forwarded header is
removed before the app sees the request, and the links follow the request itself.
gunicorn acts on none of these headers (msatom/gunicorn_conf.py), so this is the one
place that decides.
"""
from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from werkzeug.middleware.proxy_fix import ProxyFix

from common.settings import Network

# One proxy (Apache) in front: it sets each of these headers once.
FORWARDED_COUNTS = {"x_for": 1, "x_proto": 1, "x_host": 1, "x_port": 1, "x_prefix": 1}


class TrustedProxyFix:
    """WSGI middleware: ProxyFix for a peer within `networks`, no forwarded headers at
    all for any other."""

    def __init__(self, app, networks: Iterable[Network]):
        self.app = app
        self.networks = tuple(networks)
        self.fixed = ProxyFix(app, **FORWARDED_COUNTS)

    def __call__(self, environ, start_response):
        if self.trusts(environ.get("REMOTE_ADDR")):
            return self.fixed(environ, start_response)
        for key in [key for key in environ if is_forwarded(key)]:
            del environ[key]
        return self.app(environ, start_response)

    def trusts(self, address: str | None) -> bool:
        if not self.networks or not address:
            return False
        try:
            peer = ipaddress.ip_address(address)
        except ValueError:  # a Unix socket's peer, say: not an address we could trust
            return False
        # An IPv4 peer on a dual-stack socket comes as ::ffff:10.0.0.5.
        mapped = peer.ipv4_mapped if isinstance(peer, ipaddress.IPv6Address) else None
        return any(peer in network or (mapped and mapped in network) for network in self.networks)


def is_forwarded(environ_key: str) -> bool:
    return environ_key.startswith("HTTP_X_FORWARDED_") or environ_key == "HTTP_FORWARDED"
