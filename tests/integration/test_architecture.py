"""The dependency rules that keep the contexts apart (contracts in setup.cfg)."""
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def test_import_contracts_are_kept():
    # A process of its own: the linter reconfigures logging for the process it runs in.
    result = subprocess.run([str(LINT_IMPORTS), "--config", "setup.cfg", "--no-cache"], cwd=ROOT,
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
