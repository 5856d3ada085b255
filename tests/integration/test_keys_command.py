"""`msatom keys`: a rollover of the account service's signing keys from the command line.
A new key signs from the next start on; the tokens of the old one keep working until
they expire, and are refused once it is retired."""
from __future__ import annotations

import stat
from datetime import timedelta

import pytest

from common.auth import tokens
from common.auth.keys import KeySet, SigningKey
from common.auth.tokens import TokenError
from common.utc import utc_now
from msatom import cli
from msatom.bootstrap import SERVICES, settings_from_env
from msatom.cli import main


@pytest.fixture
def msatom(tmp_path, monkeypatch, capsys):
    """Run `msatom keys ARGS` in a folder of `make run`'s; (exit code, stdout, stderr)."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SIGNING_KEY", raising=False)

    def run(*args: str):
        code = main(["keys", *args])
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return run


def account_keys(file) -> tuple[SigningKey, ...]:
    """The keys the account service starts with, SIGNING_KEY naming `file`."""
    keys = settings_from_env("account", {"SIGNING_KEY": str(file)}).signing_key
    assert keys is not None
    return keys


def test_the_first_key_is_made_in_var_readable_by_its_owner_alone(msatom, tmp_path):
    assert msatom("list") == (0, "No keys yet; `msatom keys new` makes the first.\n", "")

    code, _out, said = msatom("new")

    file = tmp_path / "var" / "signing-key"
    assert code == 0 and "var/signing-key holds the keys" in said
    assert stat.S_IMODE(file.stat().st_mode) == 0o600
    [key] = account_keys(file)
    assert msatom("list")[1] == f"{key.kid}  signs\n"


def test_a_rollover_keeps_the_old_keys_tokens_working_until_they_expire(msatom, tmp_path):
    msatom("new")
    file = tmp_path / "var" / "signing-key"
    [old] = account_keys(file)
    now = utc_now()
    by_old = tokens.issue(old, "alice", ["sales"], timedelta(hours=1), now)

    assert msatom("new")[0] == 0
    new, still = account_keys(file)
    published = KeySet.of(account_keys(file))
    by_new = tokens.issue(new, "bob", ["sales"], timedelta(hours=1), now)

    assert still == old and new != old
    assert msatom("list")[1] == f"{new.kid}  signs\n{old.kid}  published\n"
    assert tokens.verify(published, by_old, now).name == "alice"
    assert tokens.verify(published, by_new, now).name == "bob"
    with pytest.raises(TokenError, match="expired"):
        tokens.verify(published, by_old, now + timedelta(hours=1))

    code, _out, said = msatom("retire", old.kid)
    assert code == 0 and "credentials signed with it among them" in said
    assert account_keys(file) == (new,)
    with pytest.raises(TokenError, match="a key this system does not know"):
        tokens.verify(KeySet.of(account_keys(file)), by_old, now)


def test_the_key_that_signs_cannot_be_retired_nor_one_that_is_not_there(msatom, tmp_path):
    msatom("new")
    [key] = account_keys(tmp_path / "var" / "signing-key")

    assert msatom("retire", key.kid) == (
        1, "", f"msatom: {key.kid} is the key that signs; make a new one first (`msatom keys new`).\n")
    assert msatom("retire", "nothing") == (1, "", "msatom: There is no key nothing; `msatom keys list` shows them.\n")
    # A kid is base64url: one in 64 begins with "-", and is still a kid.
    assert msatom("retire", "-Ab3") == (1, "", "msatom: There is no key -Ab3; `msatom keys list` shows them.\n")


def test_keys_held_in_signing_key_itself_are_given_back_as_its_new_value(msatom, monkeypatch):
    old = SigningKey.new()
    monkeypatch.setenv("SIGNING_KEY", old.hex())

    code, out, said = msatom("new")

    assert code == 0 and "set SIGNING_KEY to the value above" in said
    name, _, value = out.strip().partition("=")
    new, kept = settings_from_env("account", {name: value}).signing_key or ()
    assert name == "SIGNING_KEY" and kept == old and new != old


def test_a_file_that_holds_no_keys_is_named(msatom, tmp_path, monkeypatch):
    (tmp_path / "keys").write_text("not a key\n")
    monkeypatch.setenv("SIGNING_KEY", str(tmp_path / "keys"))

    code, _out, said = msatom("new")

    assert code == 2
    assert said.startswith(f"msatom: SIGNING_KEY (the file {tmp_path / 'keys'}) is no list of signing keys")


def test_make_run_hands_its_services_every_published_key_and_credentials_signed_with_the_first():
    new, old = SigningKey.new(), SigningKey.new()
    environ = {"SIGNING_KEY": f"{new.hex()},{old.hex()}"}
    settings = {name: settings_from_env(name, environ) for name in SERVICES}

    said = cli._sign_in(settings, "127.0.0.1")

    assert said.startswith("Sign-in is on.")
    for name in ("order", "invoicing", "shipping"):
        assert settings[name].signing_public_keys == KeySet.of([new, old]), name
        credential = settings[name].sign_in_credential
        assert credential is not None
        assert tokens.verify(KeySet.of([new]), credential, utc_now()).roles == {"service"}, name
    assert all(settings[name].feed_credential for name in ("invoicing", "shipping"))
    assert settings["account"].signing_key == (new, old)
