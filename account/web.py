"""The account service's web side: the sign-in page, the session cookie every service
reads, tokens for programs, who is signed in, the list of revoked tokens, and the
public keys that check the tokens."""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from flask import Blueprint, Flask, Response, current_app, jsonify, redirect, render_template, request, url_for

from account import openapi as account_api
from account import service
from account.access import RULES
from account.models import Account
from account.passwords import Busy, Passwords
from common.auth.guard import ANYONE, current_identity, has_credential
from common.auth.keys import KeySet, SigningKey
from common.auth.tokens import COOKIE, Identity
from common.caching import NOT_STORED, PRIVATE_REVALIDATE, conditional
from common.db import Database
from common.errors import InputError
from common.forms import Problem, Summary
from common.json_body import parse_json_body
from common.negotiation import asks_for_json
from common.openapi.serving import serve_document
from common.security import posted_from_any_page
from common.settings import JWKS_PATH, Settings
from common.utc import iso_utc
from common.parts import database
from common.web.app import Navigation, create_service_app, settings
from common.web.responses import respond

pages = Blueprint("account", __name__, template_folder="templates")

TOKEN_LIFETIME = timedelta(hours=1)  # POST /token, for programs
WRONG = "The name or the password is wrong."
SIGNED_OUT: dict[str, Any] = {"signed-out": ""}  # the query that makes the sign-in page say so
_PASSWORDS = "passwords"
SIGN_IN_OFF = "Sign-in is off on this system (SIGNING_KEY is not set): everyone may do everything."
# The public keys change only with a rollover, and the services ask again at once for
# a key they lack: a cache may keep them a few minutes.
KEYS_CACHE_CONTROL = "public, max-age=300"


def create_app(config: Settings, db: Database, navigation: Navigation, passwords: Passwords) -> Flask:
    """The account service's pages and API on `db` (migrated): it checks tokens against
    the revocations it holds itself, and passwords with `passwords`."""
    app = create_service_app(__name__, config, db, "Account", RULES, StoredRevocations(db), navigation)
    app.extensions[_PASSWORDS] = passwords
    app.register_blueprint(pages)
    posted_from_any_page(app, "account.sign_out")
    serve_document(app, account_api.document(), account_api.PAGES)
    return app


class StoredRevocations:
    """The revoked tokens as this service's own database holds them: the account service
    checks a token without asking itself over HTTP."""

    def __init__(self, db: Database):
        self.db = db

    def refusal(self, identity: Identity) -> str | None:
        with self.db.session() as session:
            return service.refusal(session, identity)


@pages.get("/sign-in")
def sign_in_page():
    return _sign_in_form(signed_out="signed-out" in request.args)


@pages.post("/sign-in")
def sign_in():
    if _key() is None:
        return _sign_in_form(status=404)
    name, password = request.form.get("name", "").strip(), request.form.get("password", "")
    problems = [Problem(key, sentence) for key, sentence, given in (
        ("name", "Enter the name of your account.", name), ("password", "Enter your password.", password))
        if not given]
    if problems:
        return _sign_in_form(name, Summary("You are not signed in", problems=tuple(problems)), 400)
    now = _now()
    try:
        signed_in = _signed_in(name, password, now)
    except service.UnusableCredentials as refusal:
        return _sign_in_form("", Summary("You are not signed in", note=str(refusal)), 400)
    except service.TooManyAttempts as refusal:
        return _sign_in_form(name, Summary("You are not signed in", note=str(refusal)), 429,
                             {"Retry-After": str(refusal.seconds)})
    except Busy as busy:
        return _sign_in_form(name, Summary("You are not signed in", note=str(busy)), 503,
                             {"Retry-After": str(busy.retry_after_seconds)})
    if signed_in is None:
        return _sign_in_form(name, Summary("You are not signed in", note=WRONG), 401, {"WWW-Authenticate": "Bearer"})
    _revoke_the_browsers_previous_token()
    return _with_session(same_site_path(request.form.get("next")),
                         *service.session_for(_signing(), signed_in, _idle(), now), now)


@pages.get("/renew")
def renew():
    """The browser's sign-in renewed, then back to the page it opened: every service's
    guard sends a browser here once its sign-in has lived a third of its life."""
    identity, back_to, now = current_identity(), same_site_path(request.args.get("next")), _now()
    if identity is None or identity.signed_in_at is None or "Authorization" in request.headers:
        return redirect(back_to, code=303), {"Cache-Control": NOT_STORED}  # no browser's sign-in to renew
    return _with_session(back_to, *service.renewed_session(_signing(), identity, _idle(), now), now)


def _with_session(back_to: str, token: str, expires_at: datetime, now: datetime):
    """Back to `back_to`, with the browser's sign-in cookie set to `token`: the browser
    keeps it until the token expires."""
    response = redirect(back_to, code=303)
    response.headers["Cache-Control"] = NOT_STORED
    response.set_cookie(COOKIE, token, max_age=int((expires_at - now).total_seconds()), path="/",
                        secure=request.is_secure, httponly=True, samesite="Lax")
    return response


@pages.post("/token")
def token():
    if _key() is None:
        return jsonify(error=SIGN_IN_OFF), 404
    name, password = _credentials(parse_json_body(request.get_data()))
    now = _now()
    try:
        signed_in = _signed_in(name, password, now)
    except service.UnusableCredentials as refusal:
        raise InputError(str(refusal), {"body": str(refusal)}) from None
    except service.TooManyAttempts as refusal:
        return jsonify(error=str(refusal)), 429, {"Retry-After": str(refusal.seconds)}
    except Busy as busy:
        return jsonify(error=str(busy)), 503, {"Retry-After": str(busy.retry_after_seconds)}
    if signed_in is None:
        return jsonify(error=WRONG), 401, {"WWW-Authenticate": "Bearer"}
    issued, expires_at = service.token_for(_signing(), signed_in, TOKEN_LIFETIME, now)
    return (jsonify(token=issued, tokenType="Bearer", expiresAt=iso_utc(expires_at)), 200,
            {"Cache-Control": NOT_STORED})


@pages.post("/sign-out")
def sign_out():
    """Revoke the token the request carries, if it still works, and drop the cookie."""
    identity = current_identity()
    if identity is not None and identity is not ANYONE:
        with database().session() as session:
            service.revoke(session, identity.token_id, identity.session_ends_at, _now())
    return _signed_out()


@pages.post("/sign-out-everywhere")
def sign_out_everywhere():
    """Revoke every token of the signed-in account, in every browser and program, and
    drop this browser's cookie (the guard let only a signed-in caller in)."""
    identity = current_identity()
    if has_credential() and identity is not None:
        with database().session() as session:
            service.sign_out_everywhere(session, identity.name, _now())
    return _signed_out()


def _signed_out():
    response = (Response(status=204) if asks_for_json()
                else redirect(url_for("account.sign_in_page", **SIGNED_OUT), code=303))
    response.delete_cookie(COOKIE, path="/", secure=request.is_secure, httponly=True, samesite="Lax")
    return response


@pages.get("/")
def whoami():
    """Who the request's token names (the guard let only a signed-in caller in): a page
    with a sign-out button, or JSON."""
    identity = current_identity()
    assert identity is not None  # the guard lets only a signed-in caller in
    name, roles = identity.name, sorted(identity.roles)
    body, status = respond(lambda: {"name": name, "roles": roles}, "account.html", name=name, roles=roles,
                           sign_in_off=identity is ANYONE, sign_in_off_text=SIGN_IN_OFF)
    return body, status, {"Cache-Control": NOT_STORED}


@pages.get("/caller")
def caller():
    """Who is signed in, if anyone, for a page that cannot ask its own server: the
    landing page, a static file. Always 200, so that a visitor who is not signed in
    costs the browser no failed request."""
    identity = current_identity()
    if identity is ANYONE:
        body = {"signIn": "off", "name": None}
    else:
        body = {"signIn": "on", "name": identity.name if identity is not None else None}
    return jsonify(body), 200, {"Cache-Control": NOT_STORED}


@pages.get("/revoked")
def revoked():
    """The tokens to refuse before they expire, for the services (the guard lets only the
    role service in); they ask often, so an unchanged list is a 304."""
    with database().session() as session:
        found = service.revoked(session, _now())
        body = {"accounts": [{"name": gone.name, "removedAt": iso_utc(gone.removed_at)} for gone in found.accounts],
                "tokens": [{"id": token.id, "expiresAt": iso_utc(token.expires_at)} for token in found.tokens]}
    response = conditional(jsonify(body))
    response.headers["Cache-Control"] = PRIVATE_REVALIDATE
    return response


@pages.get(JWKS_PATH)
def public_keys():
    """The public keys of the tokens (a JWKS, RFC 7517), with which every service checks
    them: the key that signs and those still published since a rollover."""
    signing = settings().signing_key
    if signing is None:
        return jsonify(error=SIGN_IN_OFF), 404
    response = conditional(jsonify(KeySet.of(signing).jwks()))
    response.headers["Cache-Control"] = KEYS_CACHE_CONTROL
    return response


def _revoke_the_browsers_previous_token() -> None:
    """A browser signed in again: the token its cookie held until now stops working, so
    that a copy of it taken meanwhile does too."""
    previous = current_identity()
    if has_credential() and previous is not None:
        with database().session() as session:
            service.revoke(session, previous.token_id, previous.session_ends_at, _now())


def same_site_path(target: str | None) -> str:
    """`target` when it is a path on this site, "/" otherwise: after signing in, nobody is
    sent to another site (`//host` and `/\\host` are other sites to a browser)."""
    if (not target or not target.startswith("/") or target.startswith("//") or "\\" in target
            or any(ord(char) < 0x20 or ord(char) == 0x7f for char in target)):
        return "/"
    return target


def _signed_in(name: str, password: str, now: datetime) -> Account | None:
    """The account when the password is its own; None when it is not."""
    return service.sign_in(database(), name, password, request.remote_addr or "unknown", now, _passwords())


def _credentials(body) -> tuple[str, str]:
    if not isinstance(body, dict) or not all(isinstance(body.get(key), str) and body[key]
                                             for key in ("name", "password")):
        raise InputError('Send the name and the password as JSON: {"name": "...", "password": "..."}.',
                         {"body": "name and password must be non-empty strings."})
    return body["name"].strip(), body["password"]


def _sign_in_form(name: str = "", summary: Summary | None = None, status: int = 200, headers=None,
                  signed_out: bool = False):
    next_path = same_site_path(request.values.get("next"))
    problems = {problem.field_id: problem.text for problem in summary.problems} if summary else {}
    with database().session() as session:
        no_account = not service.any_account(session)
    return render_template("sign_in.html", name=name, summary=summary, problems=problems, next_path=next_path,
                           signed_out=signed_out, sign_in_off=_key() is None, sign_in_off_text=SIGN_IN_OFF,
                           no_account=no_account), status, headers or {}


def _passwords() -> Passwords:
    return current_app.extensions[_PASSWORDS]


def _key() -> SigningKey | None:
    """The key that signs: the first of SIGNING_KEY; None while sign-in is off."""
    signing = settings().signing_key
    return signing[0] if signing else None


def _signing() -> SigningKey:
    key = _key()
    assert key is not None  # the views that sign answer 404 while sign-in is off, and nobody is signed in
    return key


def _idle() -> timedelta:
    return timedelta(seconds=settings().session_idle_seconds)


def _now() -> datetime:
    return settings().clock()
