"""When a valid token is refused before it expires. The sign-in service applies the rule
to the records it keeps, every other service to its copy of them (revocations.py); it
lives apart from that copy's HTTP client so that the account context's use cases, which
use none, apply the same rule."""
from __future__ import annotations

from datetime import datetime

from common.auth.tokens import Identity

# The role of the accounts whose tokens may read the list: the services' own. The list
# names the accounts removed, which is nobody else's business.
SERVICE_ROLE = "service"


def refusal(identity: Identity, signed_out: bool, account_removed_at: datetime | None) -> str | None:
    """Why `identity`'s token is no longer accepted, given whether its id was revoked and
    when its account was removed (None: it was not); None when it is accepted."""
    if signed_out:
        return "The token was revoked when its session was signed out; sign in again."
    # A token says when it was issued in whole seconds: one of the second of the removal is refused too.
    if account_removed_at is not None and identity.issued_at <= account_removed_at:
        return (f"The tokens of {identity.name} issued until {account_removed_at:%Y-%m-%d %H:%M:%S} UTC are no "
                "longer accepted: signed out everywhere, or the account removed; sign in again.")
    return None
