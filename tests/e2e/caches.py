"""Standard caching proxies as an operator puts them in front of the order service:
Varnish with its default configuration, and Apache httpd with mod_cache. Each runs
as a private instance on a loopback port and says how often it served from its store."""
from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

from msatom.stack import APACHE_MODULES, MissingProgram, Process, apache_binary, free_port, wait_until
from tests.e2e.running import PATIENCE, http

CACHING_APACHE_CONF = Path(__file__).with_name("caching-apache.conf")


class Varnish:
    """varnishd with the default VCL (no file of ours) in front of `origin`."""

    name = "varnish"

    def __init__(self, origin: str, folder: Path):
        self.binary = shutil.which("varnishd") or shutil.which("varnishd", path="/usr/sbin")
        if self.binary is None:
            raise MissingProgram("Varnish is not installed (Debian package varnish)")
        self.origin, self.folder, self.port = origin, folder, free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.workdir = folder / "varnish"

    def start(self) -> Varnish:
        backend = self.origin.removeprefix("http://")
        self.process = Process([self.binary, "-F", "-a", f"127.0.0.1:{self.port}", "-b", backend,
                                "-n", str(self.workdir), "-s", "malloc,32m"], dict(os.environ),
                               self.folder / "varnish.log")
        wait_until(lambda: answers(self.process, self.url), PATIENCE, f"Varnish on {self.url}")
        return self

    def hits(self, path_pattern: str) -> int:
        """Answers served from its store; Varnish counts them for every path alike."""
        counters = subprocess.run(["varnishstat", "-n", str(self.workdir), "-1", "-f", "MAIN.cache_hit"],
                                  capture_output=True, text=True, check=True).stdout
        return int(re.search(r"MAIN\.cache_hit\s+(\d+)", counters).group(1))

    def stop(self) -> None:
        self.process.stop(signal.SIGTERM)



class CachingApache:
    """Apache httpd with mod_cache (tests/e2e/caching-apache.conf) in front of `origin`."""

    name = "apache-mod-cache"

    def __init__(self, origin: str, folder: Path):
        self.binary = apache_binary()
        self.origin, self.port = origin, free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        # A folder of its own where its unprivileged workers can reach their cache
        # (a test's folder lies below folders only its owner may enter).
        self.run_dir = Path(tempfile.mkdtemp(prefix="msatom-caching-apache-"))

    def start(self) -> CachingApache:
        (self.run_dir / "cache").mkdir()
        self.run_dir.chmod(0o755)
        (self.run_dir / "cache").chmod(0o777)
        command = [str(self.binary), "-f", str(CACHING_APACHE_CONF), "-DFOREGROUND"]
        if os.geteuid() == 0:
            command += ["-C", "User nobody", "-C", "Group nogroup"]
        env = {**os.environ, "CACHE_LISTEN": f"127.0.0.1:{self.port}", "CACHE_RUN_DIR": str(self.run_dir),
               "ORIGIN_URL": self.origin, "APACHE_MODULES": str(APACHE_MODULES)}
        self.process = Process(command, env, self.run_dir / "apache.log")
        wait_until(lambda: answers(self.process, self.url), PATIENCE, f"Apache with mod_cache on {self.url}")
        return self

    def hits(self, path_pattern: str) -> int:
        """Answers to paths matching `path_pattern` that came from its store (its access log)."""
        log = (self.run_dir / "access.log").read_text()
        return sum(1 for line in log.splitlines()
                   if re.match(rf"GET {path_pattern} ", line) and 'cache="cache hit"' in line)

    def stop(self) -> None:
        self.process.stop(signal.SIGTERM)
        shutil.rmtree(self.run_dir, ignore_errors=True)


def answers(cache: Process, url: str) -> bool:
    """Whether the cache at `url` passes a request on to the service and back."""
    assert cache.running(), f"the cache exited:\n{cache.output()[-2000:]}"
    try:
        return http().get(f"{url}/health", timeout=2).status_code == 200
    except OSError:
        return False
