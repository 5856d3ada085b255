"""A real browser for end-to-end tests: Debian's Chromium, driven by Playwright.

A `Tab` is one page of a browser context. It takes a PNG screenshot of every page
it lands on (under test-artifacts/browser/<test>/) and fails the test on anything a
user's browser would show as a problem: a console error, an uncaught script error,
a request that failed, or an HTTP error the test did not announce with `expect_error`.
"""
from __future__ import annotations

import base64
import re
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

from playwright.sync_api import CDPSession

CHROMIUM = Path("/usr/bin/chromium")
# Headless as root on a machine without outside network: no sandbox, no GPU, and
# none of the background connections a closed network would refuse.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "browser"
# How long an expect() waits for the page to show what it should (Playwright's own
# default, 5 s, is tight on a loaded CI machine where a poll or a page's 5-second
# refresh has to happen first); an expectation met returns at once.
EXPECT_TIMEOUT_MS = 30_000

# Chromium's console line for an HTTP error answer, e.g. to a form with bad input.
HTTP_ERROR_CONSOLE = re.compile(r"^Failed to load resource: the server responded with a status of (\d{3})\b")

# Every form control a user can reach, which has no label to say what it is for.
UNLABELLED_CONTROLS = """() => [...document.querySelectorAll('input:not([type=hidden]), select, textarea')]
  .filter((control) => control.labels.length === 0 && !control.getAttribute('aria-label'))
  .map((control) => control.name || control.id || control.outerHTML)"""


class Tab:
    def __init__(self, page, base_url: str, folder: Path):
        self.page = page
        self.base_url = base_url
        self.folder = folder
        self.shots: list[Path] = []
        self.problems: list[str] = []
        self._http_error_lines: list[tuple[int, str]] = []  # Chromium's console lines for HTTP errors
        self._expected: set[int] = set()
        self._excused: set[tuple[int, str]] = set()
        self._devtools: CDPSession | None = None  # Chromium's DevTools session on the page, for screenshots
        page.on("console", self._on_console)
        page.on("pageerror", lambda error: self.problems.append(f"script error: {error}"))
        page.on("requestfailed", self._on_request_failed)
        page.on("response", self._on_response)

    def url(self, path: str) -> str:
        return self.base_url + path

    def open(self, path: str, name: str | None = None):
        """Go to `path` of the system, as if typed into the address bar."""
        response = self.page.goto(self.url(path))
        self.landed(name)
        return response

    def follow(self, action, name: str | None = None):
        """Do `action` (a click, a submit), which leads to a new page, and land there."""
        with self.page.expect_navigation() as navigation:
            action()
        self.landed(name)
        return navigation.value

    def landed(self, name: str | None = None) -> None:
        """The checks and the screenshot of the page the tab is on now."""
        self.page.wait_for_load_state("load")
        unlabelled = self.page.evaluate(UNLABELLED_CONTROLS)
        assert not unlabelled, f"form controls without a label on {self.page.url}: {unlabelled}"
        self.screenshot(name)
        self.check()

    def screenshot(self, name: str | None = None) -> Path:
        path = urlsplit(self.page.url).path.strip("/") or "start"
        slug = re.sub(r"[^a-z0-9]+", "-", (name or path).lower()).strip("-")
        shot = self.folder / f"{len(self.shots) + 1:02d}-{slug}.png"
        self.folder.mkdir(parents=True, exist_ok=True)
        shot.write_bytes(self._whole_page_png())
        self.shots.append(shot)
        return shot

    def _whole_page_png(self) -> bytes:
        """The whole page, as `page.screenshot(full_page=True)` takes it, with the PNG
        encoded for speed (DevTools' optimizeForSpeed): a screenshot of every page landed
        on costs about a third less CPU so, for files about a third larger."""
        if self._devtools is None:
            self._devtools = self.page.context.new_cdp_session(self.page)
        devtools = self._devtools
        size = devtools.send("Page.getLayoutMetrics")["cssContentSize"]
        shot = devtools.send("Page.captureScreenshot", {
            "format": "png", "optimizeForSpeed": True, "captureBeyondViewport": True,
            "clip": {"x": 0, "y": 0, "width": size["width"], "height": size["height"], "scale": 1}})
        return base64.b64decode(shot["data"])

    @contextmanager
    def expect_error(self, status: int):
        """Within this block an answer with `status` is what the test wants; it must come."""
        self._expected.add(status)
        seen = len(self._excused)
        try:
            yield
        finally:
            self._expected.discard(status)
        assert len(self._excused) > seen, f"no answer with status {status} came"

    def check(self) -> None:
        """Fail on any problem the browser has seen so far."""
        problems = self.problems + [f"console error: HTTP {status} for {url}"
                                    for status, url in self._http_error_lines if (status, url) not in self._excused]
        self.problems, self._http_error_lines = [], []  # each problem fails the test once
        assert not problems, "the browser saw problems:\n" + "\n".join(problems)

    def _on_console(self, message) -> None:
        if message.type != "error":
            return
        http_error = HTTP_ERROR_CONSOLE.match(message.text)
        if http_error:  # judged at the check, against the answers the test announced
            self._http_error_lines.append((int(http_error[1]), message.location.get("url")))
        else:
            self.problems.append(f"console error: {message.text} ({message.location.get('url')})")

    def _on_request_failed(self, request) -> None:
        # A page's background refresh, and its icon, fetched after the page has loaded,
        # are cut off when the reader leaves the page; no one sees that. Any other
        # request that fails is a problem.
        if request.failure == "net::ERR_ABORTED" and (request.resource_type == "fetch"
                                                      or request.url.endswith("/favicon.svg")):
            return
        self.problems.append(f"request failed: {request.method} {request.url}: {request.failure}")

    def _on_response(self, response) -> None:
        if response.status < 400:
            return
        if response.status in self._expected:
            self._excused.add((response.status, response.url))
        else:
            self.problems.append(f"HTTP {response.status}: {response.request.method} {response.url}")
