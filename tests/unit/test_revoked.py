"""The one rule by which a valid token is refused before it expires, applied by the
sign-in service to its records and by every other service to its copy of them."""
from datetime import datetime, timedelta, timezone

from common.auth.revoked import refusal
from common.auth.tokens import Identity

REMOVED = datetime(2026, 11, 22, 9, 30, tzinfo=timezone.utc)


def identity(issued: datetime) -> Identity:
    return Identity("carol", frozenset({"sales"}), "a-session", issued, issued + timedelta(hours=8))


def test_a_signed_out_token_is_refused_whatever_its_account():
    assert refusal(identity(REMOVED + timedelta(hours=1)), True, None) == (
        "The token was revoked when its session was signed out; sign in again.")


def test_a_token_issued_up_to_the_second_of_its_accounts_removal_is_refused_and_a_later_one_is_not():
    removed = ("The tokens of carol issued until 2026-11-22 09:30:00 UTC are no longer accepted: signed out "
               "everywhere, or the account removed; sign in again.")
    assert refusal(identity(REMOVED - timedelta(minutes=5)), False, REMOVED) == removed
    assert refusal(identity(REMOVED), False, REMOVED) == removed
    assert refusal(identity(REMOVED + timedelta(seconds=1)), False, REMOVED) is None


def test_a_token_neither_signed_out_nor_of_a_removed_account_is_accepted():
    assert refusal(identity(REMOVED), False, None) is None
