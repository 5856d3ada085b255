"""`msatom keys`: the account service's signing keys, rolled over without refusing a
token that still works. `new` puts a new key first, where it signs from the account
service's next start on, while the keys before it are still published, so that their
tokens work until they expire; `retire` takes an old key out once they have.

The keys are kept where SIGNING_KEY says: in the file it names (var/signing-key when it
is unset, made readable by its owner alone); when it holds the keys itself, the new
value is printed for the operator to set."""
from __future__ import annotations

import os
import sys
from pathlib import Path

from common.auth.keys import SigningKey
from common.settings_table import SIGNING_KEY, held_keys
from msatom import workspace

KEY_FILE = workspace.FOLDER / "signing-key"


def add_arguments(commands) -> None:
    """`msatom keys new|list|retire` under `commands` (argparse subparsers)."""
    keys = commands.add_parser("keys", help="the account service's signing keys: new, list, retire")
    actions = keys.add_subparsers(dest="action", required=True)
    actions.add_parser("new", help="a new key that signs from the account service's next start on; the others "
                                   "stay published")
    actions.add_parser("list", help="the keys by their kid; the first signs")
    retire = actions.add_parser("retire", help="take an old key out: its tokens are refused from the next start on")
    retire.add_argument("kid")


def kid_as_written(argv: list[str]) -> list[str]:
    """`argv` with the kid after `keys retire` taken as written: a kid is base64url, so one
    in 64 begins with `-`, which argparse would read as an option."""
    if argv[:2] == ["keys", "retire"] and len(argv) == 3 and argv[2] not in ("-h", "--help", "--"):
        return [*argv[:2], "--", argv[2]]
    return argv


def run(args) -> int:
    raw = os.environ.get(SIGNING_KEY.name, "").strip()
    file = None if raw and held_keys(raw) else Path(raw or KEY_FILE)
    current = _read(file, raw)
    if args.action == "list":
        print("\n".join(f"{key.kid}  {'signs' if key is current[0] else 'published'}" for key in current)
              or "No keys yet; `msatom keys new` makes the first.")
        return 0
    try:
        changed = _new(current) if args.action == "new" else _retire(current, args.kid)
    except ValueError as error:
        print(f"msatom: {error}", file=sys.stderr)
        return 1
    _keep(changed, file)
    print(f"msatom: {_what_now(args.action, file)}", file=sys.stderr)
    return 0


def _read(file: Path | None, raw: str) -> tuple[SigningKey, ...]:
    """The keys there are: none where the file is not there yet."""
    if file is not None and not file.exists():
        return ()
    return SIGNING_KEY.parse(SIGNING_KEY.name, str(file) if file else raw) or ()


def _new(current: tuple[SigningKey, ...]) -> tuple[SigningKey, ...]:
    return (SigningKey.new(), *current)


def _retire(current: tuple[SigningKey, ...], kid: str) -> tuple[SigningKey, ...]:
    if not current or current[0].kid == kid:
        raise ValueError(f"{kid} is the key that signs; make a new one first (`msatom keys new`).")
    if all(key.kid != kid for key in current):
        raise ValueError(f"There is no key {kid}; `msatom keys list` shows them.")
    return tuple(key for key in current if key.kid != kid)


def _keep(keys: tuple[SigningKey, ...], file: Path | None) -> None:
    """The keys written to `file` (replaced whole, readable by its owner alone), or
    printed as SIGNING_KEY's new value."""
    text = ",".join(key.hex() for key in keys)
    if file is None:
        print(f"{SIGNING_KEY.name}={text}")
        return
    file.parent.mkdir(parents=True, exist_ok=True)
    written = file.with_name(f".{file.name}.new")
    with os.fdopen(os.open(written, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as output:
        output.write(f"{text}\n")
    written.replace(file)


def _what_now(action: str, file: Path | None) -> str:
    where = f"{file} holds the keys" if file else f"set {SIGNING_KEY.name} to the value above"
    if action == "new":
        return (f"{where}; the first, new, signs from the account service's next start on, and the others stay "
                "published until you retire them (`msatom keys retire KID`) once their tokens have expired.")
    return (f"{where}; from the account service's next start on, the tokens of the key retired are refused, "
            "credentials signed with it among them (make new ones with `msatom user token`).")

