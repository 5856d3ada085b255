"""What `msatom run` tells a person at the console, what it keeps across restarts in
var/, and the commands run beside it."""
from __future__ import annotations

import re
import stat
import subprocess
import uuid

import pytest

from tests.conftest import form_token
from tests.support.orders import order_request
from tests.e2e.running import BROWSER_ACCEPT, MSATOM, MsatomRun, http, msatom_env
from tests.e2e.scripts import ROOT
from tests.support.waiting import until

pytestmark = pytest.mark.e2e

README = ROOT / "README.md"
KEY_FILE = "var/signing-key"  # where `msatom keys new` makes the key, beside `make run`
ACCESS_LINE = re.compile(r" INFO access \[[^]]*\] [A-Z]+ \S+ (?P<status>\d{3}) \d+ ms$", re.M)


def polls_answered_304(session, url: str, service: str) -> int:
    """How many of a poller's polls the feed answered 304 Not Modified (its metrics)."""
    metrics = session.get(f"{url}/{service}/metrics", timeout=5).text
    match = re.search(r'^msatom_feed_polls_total\{outcome="304"\} (\S+)$', metrics, re.M)
    return int(float(match.group(1))) if match else 0


def stopped(system: MsatomRun) -> str:
    """Ctrl-C; the whole output, once it has exited cleanly."""
    code = system.interrupt()
    output = system.output()
    assert code == 0, f"msatom run exited with {code}; its output:\n{output[-5000:]}"
    return output


def test_msatom_run_names_the_pages_to_open_and_logs_no_idle_poll(tmp_path):
    # Pollers that wait on the feed 1 s at a time: idle 304s come quickly.
    system = MsatomRun(tmp_path, POLL_WAIT_SECONDS="1")
    try:
        system.wait_until_healthy()
        session = http()
        for service in ("invoicing", "shipping"):
            until(lambda: polls_answered_304(session, system.url, service) >= 2,
                  f"{service} polling the idle feed twice")
        # One request of our own, to see that the access log writes what it should.
        marker = uuid.uuid4().hex
        assert session.get(f"{system.url}/order/", headers={"X-Request-Id": marker, "Accept": BROWSER_ACCEPT},
                           timeout=5).status_code == 200
        until(lambda: marker in system.output(), "the access line of a page request")
    finally:
        output = stopped(system)

    idle = output[:output.index(marker)]
    for page in ("/", "/order/", "/invoicing/", "/shipping/"):
        assert re.search(rf"^\s+{re.escape(system.url + page)}\s", idle, re.M), f"{page} not named:\n{idle}"
    assert "Ctrl-C" in idle
    assert [line.group() for line in ACCESS_LINE.finditer(output) if line["status"] == "304"] == [], output
    [ours] = [line for line in output.splitlines() if marker in line]  # one line per request
    assert re.search(rf"\[{marker}\] GET /order/ 200 \d+ ms$", ours), ours
    assert not re.search(r" (WARNING|ERROR|CRITICAL) ", idle), idle
    assert "\x1b" not in output  # no colour codes: the output is a file here


ORDER_FORM = {
    "customerId": "1",
    "shippingAddress.street": "Ohlauer Str. 43", "shippingAddress.zip": "10999", "shippingAddress.city": "Berlin",
    "billingAddress.street": "Ohlauer Str. 43", "billingAddress.zip": "10999", "billingAddress.city": "Berlin",
    "lines-0-itemId": "1", "lines-0-count": "2",
    "action": "place",
}


def test_a_form_opened_before_a_restart_still_places_its_order(tmp_path):
    system = MsatomRun(tmp_path)
    try:
        system.wait_until_healthy()
        browser = http()  # keeps the session cookie, as a browser does
        page = browser.get(f"{system.url}/order/new", headers={"Accept": BROWSER_ACCEPT}, timeout=5)
        assert page.status_code == 200
    finally:
        stopped(system)
    key_file = tmp_path / "var" / "secret-key"
    key = key_file.read_text()
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600  # for its owner's eyes only

    system = MsatomRun(tmp_path, port=system.port)
    try:
        system.wait_until_healthy()
        response = browser.post(f"{system.url}/order/", data={**ORDER_FORM, "csrf_token": form_token(page.text)},
                                headers={"Accept": BROWSER_ACCEPT}, allow_redirects=False, timeout=5)
        assert response.status_code == 303, response.text
        assert re.search(r"/order/\d+$", response.headers["Location"])  # placed: the order's page
    finally:
        stopped(system)
    assert key_file.read_text() == key


def msatom_poll(folder, **settings: str) -> subprocess.CompletedProcess:
    """`msatom poll invoicing` in `folder`, with no setting but `settings`."""
    return subprocess.run([str(MSATOM), "poll", "invoicing"], cwd=folder, capture_output=True, text=True,
                          timeout=60, env=msatom_env(**settings))


def test_msatom_poll_beside_msatom_run_polls_that_system_on_its_port(tmp_path):
    system = MsatomRun(tmp_path, POLL_INTERVAL_SECONDS="0")  # the poller polls only when asked
    try:
        system.wait_until_healthy()
        session = http()
        placed = session.post(f"{system.url}/order/", json=order_request(), timeout=5)
        assert placed.status_code == 201, placed.text

        result = msatom_poll(tmp_path)  # no PORT: the system runs on a port of the test's choosing

        assert result.returncode == 0, result.stdout + result.stderr
        assert '"imported": 1' in result.stdout, result.stdout
        invoice = session.get(f"{system.url}/invoicing/{placed.json()['id']}", headers={"Accept": "application/json"},
                              timeout=5)
        assert invoice.status_code == 200
    finally:
        stopped(system)

    result = msatom_poll(tmp_path)
    assert result.returncode == 2
    assert result.stderr == (f"msatom: no `make run` is running in {tmp_path} (while it runs, var/port names its "
                             "port): start it, or name the feed with PORT or ORDER_FEED_URL.\n")


def test_msatom_poll_elsewhere_says_where_it_looked_and_makes_no_database(tmp_path):
    result = msatom_poll(tmp_path)

    assert result.returncode == 2
    assert result.stderr == (f"msatom: there is no invoicing database in {tmp_path / 'var'}: run this in the folder "
                             "where `make run` runs, or name the database with DATABASE_URL.\n")
    assert list(tmp_path.iterdir()) == []


def readme_commands(heading: str) -> list[str]:
    """The commands of the README's first code block after `heading`, comments dropped."""
    text = README.read_text()
    block = text[text.index(heading):].split("```\n", 2)[1]
    return [line.split("  #")[0].strip() for line in block.splitlines() if line.strip()]


def in_a_new_shell(folder, command: str, stdin: str = "", **settings: str) -> subprocess.CompletedProcess:
    """`command` as typed into a new shell in `folder`: bash, with none of the project's
    settings but `settings` (those the person exported for `make run`)."""
    return subprocess.run(["bash", "-c", command], cwd=folder, input=stdin, capture_output=True, text=True,
                          timeout=60, env=msatom_env(**settings))


def test_with_sign_in_on_the_start_lines_and_the_readmes_account_commands_run_as_written(tmp_path):
    (tmp_path / ".venv").symlink_to(MSATOM.parents[1])  # the folder of `make run` has .venv/bin/msatom
    password = "a password long enough"
    (tmp_path / "password-file").write_text(password + "\n")
    key = in_a_new_shell(tmp_path, ".venv/bin/msatom keys new")  # as the README starts sign-in with `make run`
    assert key.returncode == 0, key.stderr
    system = MsatomRun(tmp_path, program=".venv/bin/msatom", SIGNING_KEY=KEY_FILE)
    try:
        system.wait_until_healthy()
        ready = system.output()
        assert re.search(rf"^\s+{re.escape(system.url)}/account/sign-in\s+signing in$", ready, re.M), ready
        [first_account] = re.findall(r"^\s+(\S.* user add NAME --role admin)$", ready, re.M)
        made = in_a_new_shell(tmp_path, first_account.replace("NAME", "root"), f"{password}\n{password}\n",
                              SIGNING_KEY=KEY_FILE)
        assert made.returncode == 0, made.stderr
        for command in readme_commands("**Accounts and `msatom user`.**"):
            ran = in_a_new_shell(tmp_path, command, f"{password}\n{password}\n", SIGNING_KEY=KEY_FILE)
            assert ran.returncode == 0, f"{command}: {ran.stderr}"
        signed_in = http().post(f"{system.url}/account/token", json={"name": "root", "password": password},
                                timeout=10)
        assert signed_in.status_code == 200, signed_in.text
    finally:
        stopped(system)
