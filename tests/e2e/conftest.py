"""The running system for end-to-end tests: `msatom run` as a real process."""
from __future__ import annotations

import pytest

from msatom.stack import Stack
from tests.conftest import running
from tests.e2e.running import MsatomRun


@pytest.fixture(scope="module")
def msatom_system(tmp_path_factory):
    """`msatom run` in a fresh folder on a free port, polling every second;
    stopped with Ctrl-C (SIGINT) when the module's tests are done."""
    system = MsatomRun(tmp_path_factory.mktemp("msatom-run"))
    try:
        system.wait_until_healthy(timeout=20)
    except RuntimeError as error:
        system.interrupt(timeout=5)
        pytest.fail(str(error), pytrace=False)
    yield system
    if system.interrupt(timeout=10) is None:
        print(f"msatom run did not stop within 10 s of SIGINT and was killed; its output:\n"
              f"{system.output(100)}")


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


@pytest.fixture(scope="module")
def stack():
    """PostgreSQL, the three services under gunicorn (two workers each, polling
    every 0.2 s) and Apache in front; stopped when the module's tests are done."""
    with running(lambda: Stack(poll_interval=0.2)) as production:
        yield production
