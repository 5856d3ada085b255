"""The subscription document rendered once for every request that asks for the same
one: the consumers woken by the same news all ask for it within a millisecond."""
from __future__ import annotations

import threading
from typing import Callable, Hashable


class LastRendered:
    """The document a process rendered last for each variant of a page, and what it
    showed (its URL and ETag): a request that asks for the same gets the same bytes.
    A request that comes while it is being rendered waits for it rather than render
    it again. The documents are held only in this process's memory."""

    def __init__(self, variants: tuple[Hashable, ...]):
        self._kept: dict[Hashable, tuple[Hashable, bytes]] = {}
        self._locks = {variant: threading.Lock() for variant in variants}

    def get(self, variant: Hashable, shows: Hashable, render: Callable[[], bytes]) -> bytes:
        """The document of `variant` that `shows` what is named (it must tell it all:
        the same `shows`, the same bytes), rendered now if the last one showed other."""
        with self._locks[variant]:
            kept = self._kept.get(variant)
            if kept is None or kept[0] != shows:
                kept = self._kept[variant] = (shows, render())
            return kept[1]
