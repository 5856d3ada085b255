"""newsboat, a feed reader nobody here wrote, driven headlessly by the tests."""
from __future__ import annotations

import re
import sqlite3
import subprocess

from tests.e2e.running import msatom_env


class Newsboat:
    """newsboat run headlessly (-x) with its own HOME, urls file and cache."""

    def __init__(self, program: str, folder, feed_url: str):
        self.program = program
        self.folder = folder
        (folder / "home").mkdir()
        (folder / "urls").write_text(feed_url + "\n")
        self.cache = folder / "cache.db"
        self.env = {name: value for name, value in msatom_env().items() if not name.startswith("XDG_")}
        self.env["HOME"] = str(folder / "home")

    def run(self, *commands: str) -> str:
        result = subprocess.run(
            [self.program, "-u", str(self.folder / "urls"), "-c", str(self.cache), "-x", *commands],
            cwd=self.folder, env=self.env, capture_output=True, text=True, timeout=30,
        )
        assert result.returncode == 0, f"newsboat {commands} failed:\n{result.stdout}\n{result.stderr}"
        return result.stdout

    def reload(self) -> None:
        self.run("reload")

    def unread(self) -> int:
        printed = self.run("print-unread")
        match = re.match(r"\s*(\d+) unread", printed)
        assert match, f"newsboat print-unread printed {printed!r}"
        return int(match.group(1))

    def titles(self) -> set[str]:
        with sqlite3.connect(self.cache) as cache:
            return {title for (title,) in cache.execute("SELECT title FROM rss_item")}

    def validators(self) -> tuple[int, str]:
        """What newsboat will send back on its next reload (If-Modified-Since, If-None-Match)."""
        with sqlite3.connect(self.cache) as cache:
            return cache.execute("SELECT lastmodified, etag FROM rss_feed").fetchone()
