"""What `msatom run` keeps in var/ beside the services' SQLite files: the key that
signs its forms, kept across restarts, and the port it serves on, so that the
commands run beside it (`msatom poll`, `msatom rebuild`, `msatom user`) find the
running system; and how those commands are written to run there."""
from __future__ import annotations

import os
import secrets
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from common.settings import ConfigurationError, Settings
from common.settings_table import LOCAL_FOLDER, MIN_SECRET_KEY_BYTES
from msatom.bootstrap import settings_from_env

FOLDER = Path(LOCAL_FOLDER)


def this_program() -> str:
    """This program as it was started, for a command to run beside it in the same
    folder: `.venv/bin/msatom` under `make run`."""
    started = sys.argv[0]
    if os.path.sep not in started:
        return started  # found on PATH: found there again
    relative = os.path.relpath(started)
    return relative if not relative.startswith("..") else os.path.abspath(started)


def secret_key(folder: Path = FOLDER) -> str:
    """The key in `folder`/secret-key, made at the first start (readable by its owner
    alone): a restart then leaves the forms open in a browser working."""
    path = folder / "secret-key"
    try:
        key = path.read_text().strip()
    except FileNotFoundError:
        return _new_secret_key(path)
    if len(key.encode()) < MIN_SECRET_KEY_BYTES:
        raise ConfigurationError(
            f"{path.resolve()} holds a key of {len(key.encode())} bytes; it must have at least "
            f"{MIN_SECRET_KEY_BYTES}. Delete the file and the next start makes a new one.")
    return key


def _new_secret_key(path: Path) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(MIN_SECRET_KEY_BYTES)
    with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as file:
        file.write(f"{key}\n")
    return key


@contextmanager
def port_recorded(port: int, folder: Path = FOLDER) -> Iterator[None]:
    """`folder`/port names `port` while the block runs."""
    path = folder / "port"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"{port}\n")
    try:
        yield
    finally:
        path.unlink(missing_ok=True)


def recorded_port(folder: Path = FOLDER) -> int | None:
    """The port a running `msatom run` in this folder serves on, if one does."""
    try:
        return int((folder / "port").read_text())
    except (FileNotFoundError, ValueError):
        return None


def settings_beside_run(service: str, environ: Mapping[str, str] | None = None,
                        folder: Path = FOLDER, feed: bool = True) -> Settings:
    """The settings of a command that works on a service of the `msatom run` in this
    folder: its SQLite file in `folder`, and the feed on the port the system serves on.
    DATABASE_URL, and ORDER_FEED_URL or PORT, name others. Refused when the database
    is not there (the command would make an empty one of its own), or when no system
    runs here and nothing names the feed; a command that reads no `feed` needs neither."""
    env = dict(os.environ if environ is None else environ)
    if _given(env, "DATABASE_URL"):
        return settings_from_env(service, env)
    database = folder / f"{service}.db"
    if not database.is_file():
        raise ConfigurationError(
            f"there is no {service} database in {folder.resolve()}: run this in the folder where `make run` runs, "
            "or name the database with DATABASE_URL.")
    env["DATABASE_URL"] = f"sqlite:///{database}"
    if feed and not (_given(env, "PORT") or _given(env, "ORDER_FEED_URL")):
        port = recorded_port(folder)
        if port is None:
            raise ConfigurationError(
                f"no `make run` is running in {folder.resolve().parent} (while it runs, {folder / 'port'} names "
                "its port): start it, or name the feed with PORT or ORDER_FEED_URL.")
        env["PORT"] = str(port)
    return settings_from_env(service, env)


def _given(env: Mapping[str, str], name: str) -> bool:
    return bool(env.get(name, "").strip())
