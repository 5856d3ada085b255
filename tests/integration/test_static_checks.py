"""The linter and the type checker find nothing (their settings: pyproject.toml, setup.cfg)."""
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def check(*command: str) -> None:
    result = subprocess.run([sys.executable, "-m", *command], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, f"{' '.join(command)} found:\n{result.stdout}{result.stderr}"


def test_ruff_finds_nothing():
    check("ruff", "check", "--no-cache", "--output-format", "concise", ".")


def test_mypy_finds_nothing():
    # The files to check are in setup.cfg's [mypy]; its cache makes a run after a small change quick.
    check("mypy")
