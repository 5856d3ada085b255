"""The account service as a service's copy of one of its documents sees it over HTTP
(common/auth/fetched.py): the test sets its answers, and reads what was asked."""
from __future__ import annotations


class Answer:
    def __init__(self, status: int, body=None, etag: str | None = None):
        self.status_code, self.body, self.headers = status, body, {"ETag": etag} if etag else {}

    def json(self):
        return self.body


class AccountService:
    """Answers GETs of `url` with `answers`, in turn (an exception is raised); `asked`
    holds the headers of each request."""

    def __init__(self, url: str):
        self.url = url
        self.answers: list = []
        self.asked: list[dict] = []

    def get(self, url, headers, timeout, allow_redirects):
        assert url == self.url
        self.asked.append(headers)
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer
