"""The account service's web side: the sign-in page, the session cookie every service
reads, tokens for programs, who is signed in, and the list of revoked tokens."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask import Blueprint, Flask, Response, jsonify, redirect, render_template, request, url_for

from account import openapi as account_api
from account import service
from account.models import MIGRATIONS
from common.auth.rules import ADMIN
from common.auth.tokens import COOKIE, Identity, TokenError, verify
from common.caching import NOT_STORED, PRIVATE_REVALIDATE, conditional
from common.db import Database
from common.errors import InputError
from common.json_body import parse_json_body
from common.negotiation import asks_for_json, wants_html
from common.openapi.serving import serve_document
from common.schema import upgrade
from common.settings import Settings
from common.utc import iso_utc
from common.web import create_service_app, database, respond, settings

pages = Blueprint("account", __name__, template_folder="templates")

SESSION_LIFETIME = timedelta(hours=8)  # the browser's cookie: a working day
TOKEN_LIFETIME = timedelta(hours=1)  # POST /token, for programs
WRONG = "The name or the password is wrong."
SIGN_IN_FIRST = "Sign in first: send Authorization: Bearer <token>; POST /account/token gives one."
REVOKED = "The token was revoked: it was signed out, or its account removed; sign in again."
SIGN_IN_OFF = "Sign-in is off on this system (AUTH_KEY is not set): everyone may do everything."
# Who everyone is while sign-in is off.
ANYONE = ("anyone", frozenset({ADMIN}))


@dataclass
class Summary:
    """What the error summary above the form says."""
    title: str
    note: str = ""
    problems: list[tuple[str, str]] = field(default_factory=list)  # (field id, sentence)


def create_app(config: Settings | None = None) -> Flask:
    config = config or Settings.from_env("account")
    db = Database(config.database_url)
    upgrade(db, MIGRATIONS)
    app = create_service_app(__name__, config, db, "Account")
    app.register_blueprint(pages)
    serve_document(app, account_api.document(), account_api.PAGES)
    return app


@pages.get("/sign-in")
def sign_in_page():
    return _sign_in_form(signed_out="signed-out" in request.args)


@pages.post("/sign-in")
def sign_in():
    if _key() is None:
        return _sign_in_form(status=404)
    name, password = request.form.get("name", "").strip(), request.form.get("password", "")
    problems = [(key, sentence) for key, sentence, given in (
        ("name", "Enter the name of your account.", name), ("password", "Enter your password.", password))
        if not given]
    if problems:
        return _sign_in_form(name, Summary("You are not signed in", problems=problems), 400)
    try:
        signed_in, token, expires_at = _signed_in(name, password, SESSION_LIFETIME)
    except service.TooManyFailures as refusal:
        return _sign_in_form(name, Summary("You are not signed in", str(refusal)), 429,
                             {"Retry-After": str(refusal.seconds)})
    if signed_in is None:
        return _sign_in_form(name, Summary("You are not signed in", WRONG), 401, {"WWW-Authenticate": "Bearer"})
    response = redirect(same_site_path(request.form.get("next")), code=303)
    response.set_cookie(COOKIE, token, max_age=int(SESSION_LIFETIME.total_seconds()), path="/",
                        secure=request.is_secure, httponly=True, samesite="Lax")
    return response


@pages.post("/token")
def token():
    if _key() is None:
        return jsonify(error=SIGN_IN_OFF), 404
    name, password = _credentials(parse_json_body(request.get_data()))
    try:
        signed_in, issued, expires_at = _signed_in(name, password, TOKEN_LIFETIME)
    except service.TooManyFailures as refusal:
        return jsonify(error=str(refusal)), 429, {"Retry-After": str(refusal.seconds)}
    if signed_in is None:
        return jsonify(error=WRONG), 401, {"WWW-Authenticate": "Bearer"}
    return (jsonify(token=issued, tokenType="Bearer", expiresAt=iso_utc(expires_at)), 200,
            {"Cache-Control": NOT_STORED})


@pages.post("/sign-out")
def sign_out():
    """Revoke the token the request carries, if it still works, and drop the cookie."""
    identity = _identity()
    if isinstance(identity, Identity):
        with database().session() as session:
            service.revoke(session, identity.token_id, identity.expires_at, _now())
    response = (Response(status=204) if asks_for_json()
                else redirect(url_for("account.sign_in_page", **{"signed-out": ""}), code=303))
    response.delete_cookie(COOKIE, path="/", secure=request.is_secure, httponly=True, samesite="Lax")
    return response


@pages.get("/")
def whoami():
    """Who the request's token names: a page with a sign-out button, or JSON."""
    identity = _identity()
    if isinstance(identity, str):
        return _not_signed_in(identity)
    name, roles = (identity.name, identity.roles) if identity else ANYONE
    body, status = respond(lambda: {"name": name, "roles": sorted(roles)}, "account.html", name=name,
                           roles=sorted(roles), sign_in_off=identity is None,
                           sign_in_off_text=SIGN_IN_OFF)
    return body, status, {"Cache-Control": NOT_STORED}


@pages.get("/revoked")
def revoked():
    """The tokens to refuse before they expire, for the services; they ask often, so
    an unchanged list is a 304."""
    identity = _identity()
    if isinstance(identity, str):
        return jsonify(error=identity), 401, {"WWW-Authenticate": "Bearer"}
    if identity is not None and not identity.roles & {"service", ADMIN}:
        return jsonify(error=f"Your account ({identity.name}: {', '.join(sorted(identity.roles))}) may not read "
                             "the revoked tokens; that needs the role service or admin."), 403
    with database().session() as session:
        found = service.revoked(session, _now())
        body = {"accounts": [{"name": gone.name, "removedAt": iso_utc(gone.removed_at)} for gone in found.accounts],
                "tokens": [{"id": token.id, "expiresAt": iso_utc(token.expires_at)} for token in found.tokens]}
    response = conditional(jsonify(body))
    response.headers["Cache-Control"] = PRIVATE_REVALIDATE
    return response


def same_site_path(target: str | None) -> str:
    """`target` when it is a path on this site, "/" otherwise: after signing in, nobody is
    sent to another site (`//host` and `/\\host` are other sites to a browser)."""
    if (not target or not target.startswith("/") or target.startswith("//") or "\\" in target
            or any(ord(char) < 0x20 or ord(char) == 0x7f for char in target)):
        return "/"
    return target


def _signed_in(name: str, password: str, lifetime: timedelta):
    """(account, token, expiry) when the password is right; (None, None, None) when not."""
    now = _now()
    with database().session() as session:
        found = service.sign_in(session, name, password, request.remote_addr or "unknown", now)
        if found is None:
            return None, None, None
        return found, *service.token_for(_key(), found, lifetime, now)


def _credentials(body) -> tuple[str, str]:
    if not isinstance(body, dict) or not all(isinstance(body.get(key), str) and body[key]
                                             for key in ("name", "password")):
        raise InputError('Send the name and the password as JSON: {"name": "...", "password": "..."}.',
                         {"body": "name and password must be non-empty strings."})
    return body["name"].strip(), body["password"]


def _identity() -> Identity | str | None:
    """Whom the request's token names; a sentence why there is none; None while sign-in is off."""
    key = _key()
    if key is None:
        return None
    token = _presented_token()
    if not token:
        return SIGN_IN_FIRST
    try:
        identity = verify(key, token, _now())
    except TokenError as error:
        return str(error)
    with database().session() as session:
        return REVOKED if service.is_revoked(session, identity) else identity


def _presented_token() -> str | None:
    """A program's bearer token, or else the browser's cookie."""
    scheme, _, credentials = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "bearer" and credentials.strip():
        return credentials.strip()
    return request.cookies.get(COOKIE)


def _not_signed_in(reason: str):
    if wants_html():
        return redirect(url_for("account.sign_in_page", next=request.script_root + request.full_path.rstrip("?")),
                        code=303)
    return jsonify(error=reason), 401, {"WWW-Authenticate": "Bearer"}


def _sign_in_form(name: str = "", summary: Summary | None = None, status: int = 200, headers=None,
                  signed_out: bool = False):
    next_path = same_site_path(request.values.get("next"))
    return render_template("sign_in.html", name=name, summary=summary, next_path=next_path, signed_out=signed_out,
                           sign_in_off=_key() is None, sign_in_off_text=SIGN_IN_OFF), status, headers or {}


def _key() -> str | None:
    return settings().auth_key


def _now() -> datetime:
    return settings().clock()
