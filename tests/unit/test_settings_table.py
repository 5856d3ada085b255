"""The README's table of the environment variables is the settings' own table."""
from __future__ import annotations

from pathlib import Path

from common.settings_table import markdown_table
from msatom.bootstrap import VARIABLES

README = Path(__file__).resolve().parents[2] / "README.md"
HEADER = "| variable | meaning | default |"


def readme_table() -> list[str]:
    """The lines of the README's table of variables, its header first."""
    lines = README.read_text().splitlines()
    start = lines.index(HEADER)
    end = next((index for index in range(start, len(lines)) if not lines[index].startswith("|")), len(lines))
    return lines[start:end]


def test_the_readme_shows_the_table_of_the_settings():
    table = markdown_table(VARIABLES)

    assert readme_table() == table.splitlines(), (
        "The README's table of variables differs from common/settings_table.py and the rows msatom/bootstrap.py "
        f"adds; it reads:\n{table}")


def test_every_variable_is_named_once():
    names = [variable.name for variable in VARIABLES]
    assert len(names) == len(set(names))

