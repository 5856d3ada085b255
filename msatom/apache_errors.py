"""Apache's own error documents (apache/htdocs/error/, named by ErrorDocument in
apache/httpd.conf): what a service would answer, JSON for programs and a page for
browsers, with the services' sentences. They are files because Apache serves them
as they are; this module writes them, and a test holds the files to it:

    .venv/bin/python -m msatom.apache_errors
"""
from __future__ import annotations

import html
import json
from pathlib import Path
from string import Template

from werkzeug.exceptions import default_exceptions

from common.web.errors import NOT_FOUND, TOO_LARGE
from msatom.bootstrap import NAVIGATION

FOLDER = Path(__file__).resolve().parents[1] / "apache" / "htdocs" / "error"
# The statuses Apache answers itself, with the services' sentence for each: werkzeug's,
# but where the services say it their own way (411 they never send; werkzeug's has markup).
SENTENCES = {
    403: default_exceptions[403].description,
    404: NOT_FOUND,
    411: "A request body needs a Content-Length header; a chunked body is not accepted.",
    413: TOO_LARGE,
    502: default_exceptions[502].description,
    503: default_exceptions[503].description,
    504: default_exceptions[504].description,
}
PAGE = Template("""<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>$status $name · microservice-atom</title>
  <link rel="icon" type="image/svg+xml" href="/static/favicon.svg">
  <link rel="stylesheet" href="/static/style.css">
</head>
<body>
  <a class="skip-link" href="#content">Skip to the content</a>
  <header class="site">
    <a class="brand" href="/">microservice-atom</a>
    <nav aria-label="Services">
$navigation
    </nav>
  </header>
  <main id="content" tabindex="-1">
    <h1>$name</h1>
    <p>$sentence</p>
    <p><a href="/">Back to the start page</a></p>
  </main>
  <footer class="site">microservice-atom</footer>
</body>
</html>
""")


def documents() -> dict[str, str]:
    """{file name: content} of every error document."""
    navigation = "\n".join(f'      <a href="/{path}/">{html.escape(title)}</a>' for path, title in NAVIGATION)
    written = {}
    for status, sentence in SENTENCES.items():
        written[f"{status}.json"] = json.dumps({"error": sentence}, separators=(",", ":")) + "\n"
        written[f"{status}.html"] = PAGE.substitute(status=status, name=default_exceptions[status]().name,
                                                    sentence=html.escape(sentence or "", quote=False),
                                                    navigation=navigation)
    return written


def main() -> None:
    FOLDER.mkdir(parents=True, exist_ok=True)
    for name, content in documents().items():
        (FOLDER / name).write_text(content)


if __name__ == "__main__":
    main()
