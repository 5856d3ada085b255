"""`msatom user`: the accounts that may sign in, in the account database of the
`msatom run` in this folder (or the one DATABASE_URL names), and tokens for programs."""
from __future__ import annotations

import getpass
import sys
from datetime import timedelta

from account import service
from account.models import MIGRATIONS
from account.passwords import hasher
from common.settings import Settings
from common.utc import iso_utc
from msatom import workspace
from msatom.bootstrap import migrated

# `msatom user token`: long enough for a consumer's ORDER_CREDENTIAL, renewed by hand.
TOKEN_HOURS = 30 * 24
NO_SIGNING_KEY = ("SIGNING_KEY is not set: a token is signed with the account service's private key; "
                  "set SIGNING_KEY as the account service has it.")


class PasswordMismatch(ValueError):
    """The password typed twice, differently."""


def add_arguments(commands) -> None:
    """`msatom user add|remove|list|token` under `commands` (argparse subparsers)."""
    user = commands.add_parser("user", help="the accounts that may sign in: add, remove, list, token")
    actions = user.add_subparsers(dest="action", required=True)
    add = actions.add_parser("add", help="add an account; its password is asked twice")
    add.add_argument("name")
    add.add_argument("--role", action="append", required=True, metavar="ROLE",
                     help=f"one of {', '.join(service.ROLES)}; repeat for several")
    add.add_argument("--password-stdin", action="store_true", help="read the password from one line of stdin")
    actions.add_parser("remove", help="remove an account; its tokens are refused from now on").add_argument("name")
    actions.add_parser("list", help="the accounts: name, roles, created")
    token = actions.add_parser("token", help="print a bearer token for an account, signed with SIGNING_KEY")
    token.add_argument("name")
    token.add_argument("--hours", type=float, default=TOKEN_HOURS, help=f"how long it works (default {TOKEN_HOURS})")


def run(args) -> int:
    settings = workspace.settings_beside_run("account", feed=False)
    if args.action == "token" and settings.signing_key is None:
        print(f"msatom: {NO_SIGNING_KEY}", file=sys.stderr)
        return 1
    db = migrated(settings, MIGRATIONS)
    try:
        with db.session() as session:
            print(ACTIONS[args.action](session, args, settings))
        return 0
    except (service.AccountError, PasswordMismatch) as error:
        print(f"msatom: {error}", file=sys.stderr)
        return 1
    finally:
        db.dispose()


def _add(session, args, settings: Settings) -> str:
    added = service.add_account(session, args.name, _password(args.password_stdin), args.role, settings.clock(),
                                hasher(settings.test_password_hashes))
    return f"Added {added.name} ({', '.join(sorted(added.role_set))})."


def _remove(session, args, settings: Settings) -> str:
    service.remove_account(session, args.name, settings.clock())
    return f"Removed {args.name}; the tokens issued for it are refused from now on."


def _list(session, _args, _settings: Settings) -> str:
    found = service.accounts(session)
    if not found:
        return f"No accounts yet; add one with `{workspace.this_program()} user add NAME --role admin`."
    rows = [("NAME", "ROLES", "CREATED")] + [
        (account.name, ",".join(sorted(account.role_set)), iso_utc(account.created_at)) for account in found]
    widths = [max(len(row[column]) for row in rows) for column in range(2)]
    return "\n".join(f"{name:{widths[0]}}  {roles:{widths[1]}}  {created}" for name, roles, created in rows)


def _token(session, args, settings: Settings) -> str:
    """Only the token on stdout, so that `$(msatom user token NAME)` is the token."""
    found = service.account(session, args.name)
    if found is None:
        raise service.AccountError(f"There is no account named {args.name}.")
    if args.hours <= 0:
        raise service.AccountError("--hours must be more than 0.")
    assert settings.signing_key is not None  # run refuses to make a token without one
    issued, expires_at = service.token_for(settings.signing_key[0], found, timedelta(hours=args.hours),
                                           settings.clock())
    print(f"msatom: a token for {found.name}, valid until {iso_utc(expires_at)}", file=sys.stderr)
    return issued


def _password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass("Password: ")
    if getpass.getpass("The same password again: ") != first:
        raise PasswordMismatch("The two passwords differ; nothing was added.")
    return first


ACTIONS = {"add": _add, "remove": _remove, "list": _list, "token": _token}
