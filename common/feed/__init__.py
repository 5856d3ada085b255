"""Feed mechanics: publishing (publishing.py, outbox.py, waiting.py) and following
(client.py: the HTTP client; parsing.py: a page's entries; reading.py, applying.py,
running.py; retrying.py: a rejected entry tried again; tracking.py, recording.py,
standing.py and pace.py: what a consumer keeps and tells of itself; rebuilding.py,
copying.py, progress.py: a rebuild).

A consumer's condition, one word for each thing:

- the *tracking record* (tracking.TrackingColumns, the `tracking` row): the last
  position that took effect and the validators of the subscription document read
  through; written in the transaction of the import that moves it.
- the *poll status* (tracking.PollStatusColumns, the `poll_status` row): what the
  last polls found: the outcome and its message, how many were imported, the newest
  position seen and since when entries wait, the imports counted by window (pace.py).
  Written in short transactions of its own, apart from the imports
  (recording.PollStatusRecorder), so that it never waits for one.
- the *poll state* (recording.PollState, Consumer.poll_state()): the tracking record
  and the poll status read together; the entries pending are the newest less the
  position.
- the *standing* (standing.Standing, GET /status and its gauges): how far behind the
  consumer is, in entries and in seconds, and its `state`, what this process does
  now (waiting, polling, backing off, failing): the poll state with the process's
  own polling and back-off.
- the *poll words* (common/poll_words.py, PollWords): the poll state in the
  sentences of the pages' status line and poller's panel.
- a rebuild's *progress* (progress.Progress, read from the `rebuild` row, its mark):
  how far a rebuild's copy got and how it ended; nothing of the polls.
"""

HISTORY_NS = "http://purl.org/syndication/history/1.0"  # RFC 5005: <fh:archive/>
POSITION_NS = "tag:microservice-atom,2026:feed"  # <msatom:position>: an entry's place in the feed
# Links of this project's feeds, beside RFC 5005's prev-archive and next-archive:
AFTER_REL = "tag:microservice-atom,2026:after"  # href: a template; {position} -> the page after it
EMBEDDED_REL = "tag:microservice-atom,2026:embedded"  # the same page with each entry's document inline
