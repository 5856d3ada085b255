"""Idempotency keys (IETF draft "The Idempotency-Key HTTP Header Field"): a client names a
request with a key, and a retry with that key gets the first answer instead of doing the
work again. keys.py reads keys and fingerprints requests; store.py keeps the answers;
web.py gives a view's answer once per key."""
