"""The origins a service answers for (PUBLIC_URL): its links never name a host that a
client made up.

Every absolute link a service writes (the feed's links, `Location`) follows the origin
of the request: its `Host` (or, from a trusted proxy, X-Forwarded-Host and -Proto). A
request for any other host would otherwise put that host into the answer, and a cache
or CDN that keys on the path alone would hand the answer to everyone. So a request for
an origin that PUBLIC_URL does not list is answered as if it had come for the first one
that it lists; with no PUBLIC_URL a service answers only for loopback hosts and refuses
any other with 400.
"""
from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from werkzeug.wrappers import Response

from common.settings_table import origin

LOOPBACK_NAMES = {"localhost"}
REFUSED = ("This service answers only for the origins in its PUBLIC_URL setting; none is set, so only for "
           "loopback hosts such as 127.0.0.1 and localhost.")


class PublicOrigins:
    """WSGI middleware, inside the one that applies the trusted proxy's headers."""

    def __init__(self, app, origins: Iterable[str]):
        self.app = app
        self.origins = tuple(origins)

    def __call__(self, environ, start_response):
        scheme, host = environ.get("wsgi.url_scheme", "http"), _host(environ)
        if origin(scheme, host) in self.origins or (not self.origins and is_loopback(host)):
            return self.app(environ, start_response)
        if not self.origins:
            response = Response(REFUSED + "\n", 400, content_type="text/plain; charset=utf-8")
            return response(environ, start_response)
        public_scheme, _, public_host = self.origins[0].partition("://")
        environ["wsgi.url_scheme"], environ["HTTP_HOST"] = public_scheme, public_host
        return self.app(environ, start_response)


def _host(environ) -> str:
    return environ.get("HTTP_HOST") or f"{environ.get('SERVER_NAME', '')}:{environ.get('SERVER_PORT', '')}"


def is_loopback(host: str) -> bool:
    """Whether `host` (`name[:port]`, `[v6]:port`) names this machine's loopback device."""
    name = host.rsplit(":", 1)[0] if host.count(":") == 1 or host.startswith("[") else host
    name = name.strip("[]").lower()
    if name in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False
