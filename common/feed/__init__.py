"""Feed mechanics: publishing (publishing.py, outbox.py, waiting.py) and following (client.py: the HTTP client; parsing.py: a page's entries; reading.py, applying.py, running.py; standing.py and pace.py: what a consumer tells of itself)."""

HISTORY_NS = "http://purl.org/syndication/history/1.0"  # RFC 5005: <fh:archive/>
POSITION_NS = "tag:microservice-atom,2026:feed"  # <msatom:position>: an entry's place in the feed
# Links of this project's feeds, beside RFC 5005's prev-archive and next-archive:
AFTER_REL = "tag:microservice-atom,2026:after"  # href: a template; {position} -> the page after it
EMBEDDED_REL = "tag:microservice-atom,2026:embedded"  # the same page with each entry's document inline
