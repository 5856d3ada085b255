"""Who may use which route of the account service. Signing in and out is open to
anyone, and so are the public keys of the tokens; the list of revoked tokens, which
names the accounts removed, is for the services' own accounts (role `service`)."""
from __future__ import annotations

from common.auth.revoked import SERVICE_ROLE
from common.auth.rules import PUBLIC, allow
from account.service import ROLES

RULES = {
    "account.sign_in_page": PUBLIC,
    "account.sign_in": PUBLIC,
    "account.sign_out": PUBLIC,  # also with a token that no longer works: the cookie goes
    "account.token": PUBLIC,
    "account.sign_out_everywhere": allow(*ROLES, doing="sign out everywhere"),
    "account.renew": allow(*ROLES, doing="renew a browser's sign-in", renews=False),
    "account.whoami": allow(*ROLES, doing="see which account is signed in"),
    "account.caller": PUBLIC,  # who is signed in, if anyone: for the header of the landing page
    "account.revoked": allow(SERVICE_ROLE, doing="read the revoked tokens"),
    "account.public_keys": PUBLIC,
}
