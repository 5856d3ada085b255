"""The consumers read the order documents with a credential of their own
(ORDER_CREDENTIAL): without one, or with one refused, a poll fails with a sentence
that says what to set, and nothing is lost; the thin feed pages go without it."""
from __future__ import annotations

from datetime import timedelta

import pytest
import requests
from sqlalchemy import func, select

import invoicing.models
from common.auth import tokens
from common.utc import utc_now
from common import parts
from tests.conftest import live_server
from tests.support.orders import order_request
from tests.support.signing import KEY, signing_in

NO_ACCOUNT_SERVICE = "http://127.0.0.1:9/account"
REFUSED = ("The order service refused this service's credential ({status}): set ORDER_CREDENTIAL to a token of an "
           "account with the role feed-reader.")


def token(*roles: str) -> str:
    return tokens.issue(KEY, "someone", roles, timedelta(hours=1), utc_now())


class Recorder:
    """The order service, noting of each request whether it came with a credential."""

    def __init__(self, app):
        self.app, self.requests = app, []

    def __call__(self, environ, start_response):
        query = environ.get("QUERY_STRING")
        self.requests.append((environ["PATH_INFO"] + (f"?{query}" if query else ""),
                              "HTTP_AUTHORIZATION" in environ))
        return self.app(environ, start_response)


@pytest.fixture
def order(make_app, settings_for):
    """(the order service's URL, what it was asked) with three orders, sign-in on."""
    app = make_app("order", signing_in(settings_for("order", sign_in_service_url=NO_ACCOUNT_SERVICE)))
    recorder = Recorder(app)
    with live_server(recorder) as url:
        for _ in range(3):
            placed = requests.post(url + "/", json=order_request(), timeout=5,
                                   headers={"Authorization": f"Bearer {token('sales')}"})
            assert placed.status_code == 201, placed.text
        yield url, recorder.requests


@pytest.fixture
def invoicing_with(make_app, settings_for, order):
    def make(credential: str | None, embedded: bool):
        return make_app("invoicing", signing_in(settings_for(
            "invoicing", sign_in_service_url=NO_ACCOUNT_SERVICE, feed_url=order[0] + "/feed",
            feed_credential=credential, embedded_documents=embedded)))
    return make


def invoice_count(app) -> int:
    with parts.database(app).session() as session:
        return session.scalar(select(func.count()).select_from(invoicing.models.Invoice))


@pytest.mark.parametrize("embedded", [True, False], ids=["documents inline", "documents by link"])
@pytest.mark.parametrize("credential, status", [(None, 401), (token("logistics"), 403)],
                         ids=["no credential", "credential without the role"])
def test_a_refused_credential_fails_the_poll_and_loses_nothing(invoicing_with, embedded, credential, status):
    refused = parts.consumer(invoicing_with(credential, embedded))
    result = refused.poll()
    assert (result.status, result.imported, result.message) == ("error", 0, REFUSED.format(status=status))
    assert refused.poll_state().position == 0
    assert refused.rejected() == []
    assert refused.backoff_seconds() > 0

    mended = invoicing_with(token("feed-reader"), embedded)
    result = parts.consumer(mended).poll()
    assert (result.status, result.imported, result.rejected) == (200, 3, 0)
    assert invoice_count(mended) == 3


def test_the_credential_goes_with_the_documents_and_never_with_the_thin_pages(invoicing_with, order):
    for embedded in (True, False):
        app = invoicing_with(token("feed-reader"), embedded)
        assert parts.consumer(app).poll().ok
    asked = order[1]
    thin = [credential for path, credential in asked if path.startswith("/feed") and "embed" not in path]
    documents = [credential for path, credential in asked
                 if "embed=documents" in path or path.startswith(("/1", "/2", "/3"))]
    assert thin and not any(thin)
    assert documents and all(documents)


def test_the_start_page_says_what_to_set(invoicing_with):
    app = invoicing_with(None, True)
    parts.consumer(app).poll()
    page = app.test_client().get("/", headers={"Accept": "text/html", "Authorization": f"Bearer {token('admin')}"})
    assert "set ORDER_CREDENTIAL to a token of an account with the role feed-reader" in page.get_data(as_text=True)
