"""Feed mechanics: publishing (publishing.py, outbox.py) and following (following.py, consumer.py)."""

HISTORY_NS = "http://purl.org/syndication/history/1.0"  # RFC 5005: <fh:archive/>
POSITION_NS = "tag:microservice-atom,2026:feed"  # <msatom:position>: an entry's place in the feed
