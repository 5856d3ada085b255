"""`msatom user`: accounts added, listed, given a token and removed from the command
line, on the account database that DATABASE_URL names."""
from __future__ import annotations

import io

import pytest

from account.models import MIGRATIONS
from common.auth.keys import KeySet, SigningKey
from common.auth.tokens import verify
from common.db import Database
from common.schema import upgrade
from common.utc import utc_now
from msatom.cli import main

KEY = SigningKey.new()
PASSWORD = "correct horse battery staple"


@pytest.fixture
def msatom(tmp_path, monkeypatch, capsys):
    """Run `msatom ARGS` with `stdin`; (exit code, stdout, stderr)."""
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'account.db'}")
    monkeypatch.setenv("SIGNING_KEY", KEY.hex())
    monkeypatch.setattr("sys.argv", [".venv/bin/msatom"])  # as `make run`'s folder has it

    def run(*args: str, stdin: str = ""):
        monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
        code = main(list(args))
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return run


def test_an_account_is_added_listed_given_a_token_and_removed(msatom):
    added = msatom("user", "add", "alice", "--role", "sales", "--role", "admin", "--password-stdin",
                   stdin=f"{PASSWORD}\n")
    listed = msatom("user", "list")
    code, token, said = msatom("user", "token", "alice", "--hours", "2")
    removed = msatom("user", "remove", "alice")

    assert added == (0, "Added alice (admin, sales).\n", "")
    assert listed[1].splitlines()[0].split() == ["NAME", "ROLES", "CREATED"]
    assert listed[1].splitlines()[1].split()[:2] == ["alice", "admin,sales"]
    identity = verify(KeySet.of([KEY]), token.strip(), utc_now())
    assert (code, identity.name, identity.roles) == (0, "alice", {"admin", "sales"})
    assert "valid until" in said
    assert removed[0] == 0
    assert msatom("user", "list")[1] == "No accounts yet; add one with `.venv/bin/msatom user add NAME --role admin`.\n"
    assert msatom("user", "token", "alice") == (1, "", "msatom: There is no account named alice.\n")


def test_the_password_typed_is_the_one_that_signs_in(msatom, monkeypatch):
    typed = iter([PASSWORD, PASSWORD])
    monkeypatch.setattr("getpass.getpass", lambda prompt: next(typed))
    assert msatom("user", "add", "bob", "--role", "logistics")[0] == 0

    typed = iter([PASSWORD, "something else"])
    assert msatom("user", "add", "carol", "--role", "logistics") == (
        1, "", "msatom: The two passwords differ; nothing was added.\n")


def test_an_unknown_role_is_refused_with_the_known_ones(msatom):
    code, _out, said = msatom("user", "add", "dave", "--role", "cook", "--password-stdin", stdin=f"{PASSWORD}\n")

    assert code == 1
    assert said == ("msatom: Unknown role cook: an account has one or more of sales, accounting, logistics, admin, "
                    "feed-reader, service.\n")


def test_a_token_needs_the_signing_key(msatom, monkeypatch):
    msatom("user", "add", "feeds", "--role", "feed-reader", "--password-stdin", stdin=f"{PASSWORD}\n")
    monkeypatch.delenv("SIGNING_KEY")

    code, out, said = msatom("user", "token", "feeds")

    assert (code, out) == (1, "")
    assert said.startswith("msatom: SIGNING_KEY is not set")


def test_beside_make_run_it_uses_its_account_database_and_refuses_where_there_is_none(msatom, monkeypatch,
                                                                                     tmp_path):
    monkeypatch.delenv("DATABASE_URL")
    monkeypatch.chdir(tmp_path)

    code, _out, said = msatom("user", "list")
    assert code == 2 and "there is no account database in" in said

    beside = Database(f"sqlite:///{tmp_path / 'var' / 'account.db'}")  # as `make run` leaves it
    upgrade(beside, MIGRATIONS)
    beside.dispose()
    msatom("user", "add", "erin", "--role", "accounting", "--password-stdin", stdin=f"{PASSWORD}\n")
    assert msatom("user", "list")[1].splitlines()[1].split()[:2] == ["erin", "accounting"]
