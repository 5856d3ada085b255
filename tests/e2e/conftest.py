"""The running systems and the browser for end-to-end tests: `msatom run`, the
production stack and Chromium, as real processes."""
from __future__ import annotations

import shutil

import pytest
from playwright.sync_api import BrowserContext, expect, sync_playwright

from common.auth.rules import ADMIN
from common.auth.tokens import COOKIE
from msatom.stack import MissingProgram, Stack
from tests.conftest import REQUIRE_REAL_STACK, missing, running
from tests.e2e.browser import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, EXPECT_TIMEOUT_MS, Tab
from tests.e2e.running import SIGNING_KEY, MsatomRun, token


def msatom_running(folder, **settings: str):
    """`msatom run` in `folder` on a free port, until the generator is closed: then
    stopped with Ctrl-C (SIGINT)."""
    system = MsatomRun(folder, None, **settings)
    try:
        system.wait_until_healthy()
    except RuntimeError as error:
        system.interrupt(timeout=5)
        pytest.fail(str(error), pytrace=False)
    yield system
    if system.interrupt(timeout=30) is None:
        print(f"msatom run did not stop within 30 s of SIGINT and was killed; its output:\n"
              f"{system.output(100)}")


@pytest.fixture(scope="module")
def msatom_system(tmp_path_factory):
    """`msatom run` in a fresh folder, polling every second, for the module's tests."""
    yield from msatom_running(tmp_path_factory.mktemp("msatom-run"))


@pytest.fixture(scope="module")
def base_url(msatom_system) -> str:
    """The base URL of the running system, e.g. http://127.0.0.1:PORT."""
    return msatom_system.url


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """A failed test shows the running system's output under its report."""
    outcome = yield
    report = outcome.get_result()
    system = getattr(item, "funcargs", {}).get("msatom_system")
    if report.failed and isinstance(system, MsatomRun):
        report.sections.append((f"msatom run output ({system.log})", system.output(200)))


def production_stack():
    """PostgreSQL, the three services under gunicorn (two workers each, polling
    every 0.2 s) and Apache in front, until the generator is closed."""
    with running(lambda: Stack(poll_interval=0.2, signing_key=SIGNING_KEY)) as production:
        yield production


@pytest.fixture(scope="session")
def stack():
    """The production stack, shared by every module that stops none of its processes
    and counts on no state of it but what its own tests made."""
    yield from production_stack()


@pytest.fixture(scope="module")
def own_stack():
    """The production stack for a module of its own: its tests stop its processes."""
    yield from production_stack()


def system_for_people(tmp_path_factory):
    """What a person's browser talks to: the real stack through Apache, or `make run`
    (`msatom run`) where Apache or PostgreSQL is missing. It polls only when asked
    ("Poll now"), so a test sees what its own clicks do."""
    try:
        stack = Stack(poll_interval=3600, poll_wait=0, signing_key=SIGNING_KEY)
    except MissingProgram as error:
        if REQUIRE_REAL_STACK:
            pytest.fail(f"{error}, and REQUIRE_REAL_STACK=1 forbids falling back to msatom run", pytrace=False)
        yield from msatom_running(tmp_path_factory.mktemp("msatom-run"), POLL_INTERVAL_SECONDS="3600",
                                   POLL_WAIT_SECONDS="0")
        return
    with running(lambda: stack) as started:
        yield started


@pytest.fixture(scope="session")
def ui_system(tmp_path_factory):
    """The system for people, shared by every module that stops none of its processes
    and counts on no state of it but what its own tests made."""
    yield from system_for_people(tmp_path_factory)


@pytest.fixture(scope="module")
def own_ui_system(tmp_path_factory):
    """The system for people for a module of its own: its tests stop its processes,
    or count on lists that only they fill."""
    yield from system_for_people(tmp_path_factory)


@pytest.fixture(scope="session")
def chromium():
    """Debian's Chromium, headless, for the whole run."""
    if not CHROMIUM.exists():
        missing(f"{CHROMIUM} is not installed (Debian package chromium)")
    expect.set_options(timeout=EXPECT_TIMEOUT_MS)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def browse(request, chromium, ui_system):
    """Open a browser tab on the system, e.g. `browse(width=375, timezone="Asia/Kolkata")`,
    or `browse(script=False)` for a browser that runs no script; each tab is a fresh
    browser profile (no cookies), checked when the test ends."""
    folder = ARTIFACTS / request.node.name
    shutil.rmtree(folder, ignore_errors=True)
    contexts, tabs = list[BrowserContext](), list[Tab]()

    def open_tab(width: int = 1280, height: int = 900, timezone: str = "Europe/Berlin", script: bool = True,
                 bypass_csp: bool = False, signed_in: tuple[str, ...] | None = (ADMIN,), system=None) -> Tab:
        # bypass_csp: for a test that injects a script of its own (axe-core); the pages' CSP forbids it.
        # signed_in: the roles of the account the tab is signed in as (the stack's sign-in
        # cookie, as the sign-in page sets it); None: not signed in.
        # system: another running system than ui_system, e.g. `msatom run` with sign-in off.
        base_url = (system or ui_system).url
        context = chromium.new_context(viewport={"width": width, "height": height}, timezone_id=timezone,
                                       locale="en-GB", java_script_enabled=script, bypass_csp=bypass_csp)
        if signed_in is not None:
            context.add_cookies([{"name": COOKIE, "value": token(*signed_in), "url": base_url,
                                  "httpOnly": True, "sameSite": "Lax"}])
        contexts.append(context)
        tab = Tab(context.new_page(), base_url, folder if not tabs else folder / f"tab-{len(tabs) + 1}")
        tabs.append(tab)
        return tab

    yield open_tab
    try:
        for tab in tabs:
            tab.check()
    finally:
        for context in contexts:
            context.close()


@pytest.fixture
def tab(browse) -> Tab:
    return browse()
