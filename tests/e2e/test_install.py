"""Installing the project as `make run` does, and as a wheel: quietly, and with every
file the services read at run time."""
from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

PROJECT = Path(__file__).resolve().parents[2]
SERVICES = ("order", "invoicing", "shipping")


def pip(*args: str) -> str:
    """Run pip as the Makefile does; its whole output."""
    result = subprocess.run([sys.executable, "-m", "pip", *args], cwd=PROJECT, capture_output=True, text=True,
                            timeout=300)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    return output


def packaging_warnings(output: str) -> list[str]:
    """The lines in which setuptools warns about the project's configuration."""
    return [line for line in output.splitlines()
            if "BuildBackendWarning" in line or "would be ignored" in line or "SetuptoolsWarning" in line]


def test_the_editable_install_of_make_run_prints_no_packaging_warning(tmp_path):
    # Into a folder of its own: --ignore-installed leaves the running environment's install alone.
    output = pip("install", "--quiet", "--no-deps", "--ignore-installed", "--prefix", str(tmp_path / "prefix"),
                 "-e", ".")

    assert packaging_warnings(output) == [], output


def test_the_wheel_holds_the_templates_static_files_and_migrations_without_warnings(tmp_path):
    output = pip("wheel", "--verbose", "--no-deps", "--wheel-dir", str(tmp_path), ".")

    assert packaging_warnings(output) == [], output
    [wheel] = tmp_path.glob("*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    wanted = {"common/templates/layout.html", "common/static/style.css", "common/static/app.js",
              "common/migrations/env.py", "common/migrations/script.py.mako"}
    for service in SERVICES:
        wanted.add(f"{service}/web.py")
        wanted |= {f"{service}/templates/{page.name}" for page in (PROJECT / service / "templates").glob("*.html")}
        wanted |= {f"{service}/migrations/versions/{step.name}"
                   for step in (PROJECT / service / "migrations" / "versions").glob("*.py")}
    assert wanted - names == set()
    assert not [name for name in names if "__pycache__" in name]
