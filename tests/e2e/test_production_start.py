"""A production start (gunicorn on the WSGI entry points) needs SECRET_KEY, the keys of
the sign-in tokens (the account service its private SIGNING_KEY, every other service
SIGNING_PUBLIC_KEYS) and the credentials a service shows (ACCOUNT_CREDENTIAL, a
consumer's ORDER_CREDENTIAL): without one the process stops at once and says which;
with them the service answers."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from common.auth.keys import KeySet
from msatom.stack import Process, service_credential
from tests.e2e.running import SIGNING_KEY, MSATOM, PATIENCE, free_port, http, msatom_env, wait_for_health

pytestmark = pytest.mark.e2e
MESSAGE = "SECRET_KEY is not set"
SECRET = "e2e-test-secret-0123456789abcdef"
PUBLIC_KEYS = json.dumps(KeySet.of([SIGNING_KEY]).jwks())
CHECKING = {"SIGNING_PUBLIC_KEYS": PUBLIC_KEYS, "ACCOUNT_CREDENTIAL": service_credential(SIGNING_KEY, "a-service")}


def gunicorn(service: str, port: int) -> list[str]:
    # One worker: with several, gunicorn's own shutdown races with itself and its last words vary.
    return [sys.executable, "-m", "gunicorn", "--workers", "1", "--bind", f"127.0.0.1:{port}",
            "--no-control-socket", f"msatom.wsgi:{service}()"]


def refused(command: list[str], tmp_path, **settings: str) -> subprocess.CompletedProcess:
    database = tmp_path / "service.db"
    result = subprocess.run(command, env=msatom_env(DATABASE_URL=f"sqlite:///{database}", **settings),
                            capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert not database.exists(), "the database was touched before the refusal"
    return result


@pytest.mark.parametrize("service", ["account", "order", "invoicing", "shipping"])
def test_gunicorn_without_secret_key_stops_at_once_with_a_line_naming_it(tmp_path, service):
    result = refused(gunicorn(service, free_port()), tmp_path)

    assert result.returncode != 0
    assert f"msatom {service}: {MESSAGE}" in result.stderr, result.stderr
    # No traceback of ours.
    assert "ConfigurationError" not in result.stderr and "msatom/" not in result.stderr
    assert "Reason: App failed to load." in result.stderr  # gunicorn stops instead of booting workers again


@pytest.mark.parametrize("service, setting, given", [
    ("account", "SIGNING_KEY", {"SIGNING_PUBLIC_KEYS": PUBLIC_KEYS}),
    ("order", "SIGNING_PUBLIC_KEYS", {}),
    ("order", "ACCOUNT_CREDENTIAL", {"SIGNING_PUBLIC_KEYS": PUBLIC_KEYS}),
    ("invoicing", "ORDER_CREDENTIAL", CHECKING), ("shipping", "ORDER_CREDENTIAL", CHECKING)])
def test_gunicorn_without_its_sign_in_settings_stops_at_once_saying_what_to_set(tmp_path, service, setting, given):
    result = refused(gunicorn(service, free_port()), tmp_path, SECRET_KEY=SECRET, **given)

    assert result.returncode != 0
    assert f"msatom {service}: {setting} is not set" in result.stderr, result.stderr
    assert "Reason: App failed to load." in result.stderr


def test_gunicorn_of_a_service_given_the_private_signing_key_refuses_to_hold_it(tmp_path):
    result = refused(gunicorn("order", free_port()), tmp_path, SECRET_KEY=SECRET, SIGNING_KEY=SIGNING_KEY.hex(),
                     **CHECKING)

    assert result.returncode != 0
    assert "msatom order: SIGNING_KEY is set, and it is the account service's alone" in result.stderr, result.stderr


@pytest.mark.parametrize("how", ["gunicorn", "msatom serve"])
def test_a_short_secret_key_stops_the_start_with_how_to_make_one(tmp_path, how):
    command = gunicorn("order", free_port()) if how == "gunicorn" else [str(MSATOM), "serve", "order"]

    result = refused(command, tmp_path, SECRET_KEY="a", PORT=str(free_port()))

    assert result.returncode != 0
    assert "SECRET_KEY is 1 bytes long; it must have at least 32." in result.stderr, result.stderr
    assert "secrets.token_hex(32)" in result.stderr
    assert "ConfigurationError" not in result.stderr


def test_msatom_serve_without_secret_key_serves_and_warns(tmp_path):
    """`msatom serve` keeps the contract's settings; only gunicorn insists on a key."""
    port = free_port()
    env = msatom_env(DATABASE_URL=f"sqlite:///{tmp_path / 'order.db'}", PORT=str(port))
    process = Process([str(MSATOM), "serve", "order"], env, tmp_path / "service.log")
    try:
        wait_for_health(process, f"http://127.0.0.1:{port}", "the service")
    finally:
        assert process.stop(timeout=PATIENCE) == 0, process.output()
    assert "SECRET_KEY is not set" in process.output()


@pytest.mark.parametrize("how", ["gunicorn", "msatom serve"])
def test_with_its_keys_the_service_starts_and_serves_its_form(tmp_path, how):
    port = free_port()
    command = gunicorn("order", port) if how == "gunicorn" else [str(MSATOM), "serve", "order"]
    env = msatom_env(DATABASE_URL=f"sqlite:///{tmp_path / 'order.db'}", PORT=str(port), SECRET_KEY=SECRET,
                     **CHECKING)
    process = Process(command, env, tmp_path / "service.log")
    try:
        wait_for_health(process, f"http://127.0.0.1:{port}", "the service")
        page = http().get(f"http://127.0.0.1:{port}/new", headers={"Accept": "text/html"}, timeout=5)
        assert page.status_code == 200
        assert 'name="csrf_token"' in page.text
        assert page.headers["X-Frame-Options"] == "DENY"
    finally:
        assert process.stop(timeout=PATIENCE) == 0, process.output()
