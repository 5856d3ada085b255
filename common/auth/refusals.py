"""How a service says no: a browser that is not signed in is sent to the sign-in page;
everyone else gets 401 or 403 with one sentence, as an HTML page or as JSON, and the
`WWW-Authenticate: Bearer` challenge of RFC 6750. A browser whose sign-in is due for
renewal is sent by way of the sign-in service, which renews it."""
from __future__ import annotations

from urllib.parse import quote

from flask import jsonify, redirect, render_template, request

from common.auth.rules import ADMIN, Rule
from common.auth.tokens import Identity
from common.caching import NOT_STORED
from common.negotiation import wants_html
from common.settings import SignInService

SIGN_IN_PAGE_FIRST = "Sign in first to see this page."
RETRY_AFTER_SECONDS = 5  # the service asks for the keys again after as long


def sign_in_first(sign_in: SignInService) -> str:
    return f"Sign in first: send Authorization: Bearer <token>; POST {sign_in.token} gives one."


def not_signed_in(sign_in: SignInService):
    """A request without a token on a route that needs one."""
    if wants_html():
        if request.method in ("GET", "HEAD"):
            return redirect(sign_in_url(sign_in), code=303), {"Cache-Control": NOT_STORED}
        return _page("Sign in first", SIGN_IN_PAGE_FIRST, 401, 'Bearer', sign_in)
    return _json(sign_in_first(sign_in), 401, 'Bearer')


def bad_token(reason: str, sign_in: SignInService):
    """A token that was not signed here, has expired or was revoked."""
    challenge = f'Bearer error="invalid_token", error_description="{reason.replace(chr(34), chr(39))}"'
    if wants_html():
        return _page("Sign in again", reason, 401, challenge, sign_in)
    return _json(reason, 401, challenge)


def not_now(sentence: str):
    """A token that cannot be judged now (the keys to check it cannot be had): 503, to be
    sent again in a moment, never a 401 that would tell the client its token is bad."""
    headers = {"Retry-After": str(RETRY_AFTER_SECONDS), "Cache-Control": NOT_STORED}
    if wants_html():
        return render_template("refused.html", title="Try again", sentence=sentence, sign_in_href=None), 503, headers
    return jsonify(error=sentence), 503, headers


def not_allowed(identity: Identity, rule: Rule):
    """A valid token whose roles do not include one the route needs."""
    held = ", ".join(sorted(identity.roles)) or "no roles"
    needed = " or ".join(filter(None, [", ".join(sorted(rule.roles - {ADMIN})), ADMIN]))
    sentence = f"Your account ({identity.name}: {held}) may not {rule.doing}; that needs the role {needed}."
    challenge = 'Bearer error="insufficient_scope"'
    if wants_html():
        return _page("Not allowed", sentence, 403, challenge, sign_in=None)
    return _json(sentence, 403, challenge)


def sign_in_url(sign_in: SignInService) -> str:
    """The sign-in page, back to where the request wanted to go."""
    return f"{sign_in.sign_in_page}?next={quote(_wanted_path(), safe='/')}"


def renewal(sign_in: SignInService):
    """A browser that opens a page when its sign-in is due for renewal is sent to have it
    renewed, and back to the page."""
    return redirect(f"{sign_in.renewal}?next={quote(_wanted_path(), safe='/')}", code=303), {
        "Cache-Control": NOT_STORED}


def _wanted_path() -> str:
    """The path, and query, the request wanted, from the root of the site."""
    query = request.query_string.decode("latin-1")
    return request.script_root + request.path + (f"?{query}" if query else "")


def _page(title: str, sentence: str, status: int, challenge: str, sign_in: SignInService | None):
    """The refusal as a page, with a link to sign in at `sign_in` if given."""
    body = render_template("refused.html", title=title, sentence=sentence,
                           sign_in_href=sign_in_url(sign_in) if sign_in else None)
    return body, status, _headers(challenge)


def _json(sentence: str, status: int, challenge: str):
    return jsonify(error=sentence), status, _headers(challenge)


def _headers(challenge: str) -> dict:
    return {"WWW-Authenticate": challenge, "Cache-Control": NOT_STORED}
