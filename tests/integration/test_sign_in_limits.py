"""Sign-in under attack, over HTTP on each database: an attempt is counted before its
password is checked, so that parallel guesses cannot pass the limit, and a name or
password no account can have is refused with a sentence and counted all the same."""
from __future__ import annotations

from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest

from account import service
from account.passwords import TEST_HASHES
from common import parts
from tests.conftest import form_token, live_server
from tests.support.addresses import from_address
from tests.support.signing import signing_in

PASSWORD = "correct horse battery staple"


@pytest.fixture
def account_url(make_app, settings_for, database_url, clock):
    app = make_app("account", signing_in(settings_for("account", database_url=database_url, clock=clock)))
    with parts.database(app).session() as session:
        service.add_account(session, "alice", PASSWORD, ["sales"], clock(), TEST_HASHES)
    with live_server(app) as url:
        yield url


def token_status(url: str, address: str, body: dict) -> int:
    return from_address(address).post(f"{url}/token", json=body, timeout=30).status_code


def test_forty_parallel_wrong_passwords_get_five_checked_and_the_right_one_still_works_elsewhere(account_url):
    wrong = {"name": "alice", "password": "a wrong guess"}
    with ThreadPoolExecutor(max_workers=40) as pool:
        statuses = Counter(pool.map(lambda _: token_status(account_url, "127.0.0.11", wrong), range(40)))

    assert statuses == {401: 5, 429: 35}
    assert token_status(account_url, "127.0.0.11", {"name": "alice", "password": PASSWORD}) == 429
    assert token_status(account_url, "127.0.0.12", {"name": "alice", "password": PASSWORD}) == 200


@pytest.mark.parametrize("name, password, sentence", [
    ("a\u0000b", PASSWORD, "The name holds a control character, which no account's name has."),
    ("alice\udc80", PASSWORD, "The name holds an invalid character (a lone surrogate), which no account's name has."),
    ("alice", "correct\udc80horse", "The password holds an invalid character (a lone surrogate), which no "
                                    "account's password has."),
    ("alice", "correct\x1bhorse", "The password holds a control character, which no account's password has."),
], ids=["NUL in the name", "lone surrogate in the name", "lone surrogate in the password",
        "escape in the password"])
def test_a_name_or_password_no_account_can_have_is_400_and_counts_as_a_failure(account_url, name, password,
                                                                                 sentence):
    client = from_address("127.0.0.13")
    answers = [client.post(f"{account_url}/token", json={"name": name, "password": password}, timeout=30)
               for _ in range(5)]

    assert [(answer.status_code, answer.json()["error"]) for answer in answers] == [(400, sentence)] * 5
    refused = client.post(f"{account_url}/token", json={"name": "alice", "password": PASSWORD}, timeout=30)
    assert refused.status_code == (429 if name == "alice" else 200)


def test_the_form_with_a_nul_in_the_name_is_shown_again_with_the_sentence(account_url):
    client = from_address("127.0.0.14")
    page = client.get(f"{account_url}/sign-in", timeout=30)
    answer = client.post(f"{account_url}/sign-in", data={"csrf_token": form_token(page.text), "name": "al\x00ice",
                                                          "password": PASSWORD}, timeout=30)

    assert answer.status_code == 400
    assert "The name holds a control character, which no account&#39;s name has." in answer.text
