"""axe-core (npm package, installed by `make test`) run in a page, as the browser
tests use it: the WCAG 2.x A and AA rules, and what breaks them."""
from __future__ import annotations

from pathlib import Path

from tests.conftest import missing

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
WCAG_A_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
RUN = """(tags) => axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']})
  .then((result) => result.violations)"""


def violations(page) -> list[str]:
    """Each rule the page breaks, with the elements that break it; the page must have
    been opened with the CSP bypassed (the script is injected)."""
    if not AXE.exists():
        missing(f"{AXE} is missing (run `make test`, which installs it with npm ci)")
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE))
    # Only the violations cross over to Python: axe's whole result (every rule passed,
    # each with its elements) is several times larger, for nothing a test reads.
    found = page.evaluate(RUN, WCAG_A_AA)
    return [f"{violation['id']} ({violation['impact']}): {violation['help']}: "
            + "; ".join(node["html"][:120] for node in violation["nodes"][:5])
            for violation in found]
