"""Clients that come from an address of their own: Linux routes all of 127.0.0.0/8 to
the loopback device, so a test picks a source address that no other test uses, and the
limits a service keeps per client address count it alone."""
from __future__ import annotations

import requests
from requests.adapters import HTTPAdapter


class _FromAddress(HTTPAdapter):
    def __init__(self, address: str):
        self.address = address
        super().__init__()

    def init_poolmanager(self, *args, **kwargs):
        super().init_poolmanager(*args, source_address=(self.address, 0), **kwargs)


def from_address(address: str) -> requests.Session:
    """A client whose connections leave from `address` (one of 127.0.0.0/8)."""
    session = requests.Session()
    session.mount("http://", _FromAddress(address))
    return session
