"""Who may use which route of the account service. Signing in and out is open to
anyone; the list of revoked tokens is for the services, which sign their own tokens
with the role `service`."""
from __future__ import annotations

from common.auth.rules import PUBLIC, allow
from account.service import ROLES

RULES = {
    "account.sign_in_page": PUBLIC,
    "account.sign_in": PUBLIC,
    "account.sign_out": PUBLIC,  # also with a token that no longer works: the cookie goes
    "account.token": PUBLIC,
    "account.sign_out_everywhere": allow(*ROLES, doing="sign out everywhere"),
    "account.whoami": allow(*ROLES, doing="see which account is signed in"),
    "account.caller": PUBLIC,  # who is signed in, if anyone: for the header of the landing page
    "account.revoked": allow("service", doing="read the revoked tokens"),
}
