import threading

from common.feed.rendering import LastRendered


class Renders:
    def __init__(self, gate: threading.Event | None = None):
        self.count, self.gate = 0, gate

    def __call__(self) -> bytes:
        self.count += 1
        if self.gate is not None:
            assert self.gate.wait(10)
        return f"document {self.count}".encode()


def test_the_same_document_asked_again_is_not_rendered_again():
    pages, render = LastRendered(variants=("thin",)), Renders()

    first = pages.get("thin", ("/feed", "feed-20-7"), render)
    second = pages.get("thin", ("/feed", "feed-20-7"), render)

    assert first == second == b"document 1" and render.count == 1


def test_a_document_that_shows_something_else_is_rendered_anew():
    pages, render = LastRendered(variants=("thin",)), Renders()

    pages.get("thin", ("/feed", "feed-20-7"), render)
    newer = pages.get("thin", ("/feed", "feed-20-8"), render)
    elsewhere = pages.get("thin", ("/other/feed", "feed-20-8"), render)

    assert (newer, elsewhere, render.count) == (b"document 2", b"document 3", 3)


def test_each_variant_keeps_its_own():
    pages, render = LastRendered(variants=("thin", "embedded")), Renders()

    thin = pages.get("thin", ("/feed", "feed-20-7"), render)
    embedded = pages.get("embedded", ("/feed", "feed-20-7"), render)

    assert pages.get("thin", ("/feed", "feed-20-7"), render) == thin
    assert pages.get("embedded", ("/feed", "feed-20-7"), render) == embedded != thin
    assert render.count == 2


def test_requests_that_ask_while_it_is_rendered_wait_for_that_rendering():
    pages, gate = LastRendered(variants=("embedded",)), threading.Event()
    render, answers = Renders(gate), []
    asking = [threading.Thread(target=lambda: answers.append(pages.get("embedded", ("/feed", "feed-20-9"), render)))
              for _ in range(8)]
    for thread in asking:
        thread.start()
    gate.set()
    for thread in asking:
        thread.join(10)

    assert answers == [b"document 1"] * 8 and render.count == 1
