"""Each service decides for itself who may use each of its routes: before every
request it learns who calls (a bearer token, or the browser's sign-in cookie), checks
the token with the sign-in service's public keys and against the list of revoked
tokens, and applies its own rules (`<service>/access.py`). Without keys to check
tokens with (settings.checks_tokens) sign-in is off and everyone acts as an admin.
A browser whose sign-in is due for renewal (tokens.py) and opens a page is sent to the
sign-in service to have it renewed, and back: using the site keeps it signed in.

Answers that depend on who asks are kept out of shared caches: a guarded route's
answer is always `private` (or `no-store`), and every page that shows who is signed
in varies by `Cookie` and `Authorization`."""
from __future__ import annotations

from datetime import datetime, timezone
from functools import partial

from flask import Flask, g, request

from common.auth import refusals, tokens
from common.auth.keys import KeySet
from common.auth.published import public_keys
from common.auth.revocations import RevocationClient, Revocations
from common.auth.rules import ADMIN, PUBLIC, Rule
from common.auth.tokens import COOKIE, Identity, KeysUnavailable, PublicKeys, TokenError
from common.negotiation import wants_html
from common.settings import ConfigurationError, Settings, SignInService

# Who every request is while sign-in is off.
ANYONE = Identity("anyone", frozenset({ADMIN}), token_id="", issued_at=datetime.min.replace(tzinfo=timezone.utc),
                  expires_at=datetime.max.replace(tzinfo=timezone.utc))
CALLER_VARY = ("Cookie", "Authorization")
NOT_BEARER = "Send the token as Authorization: Bearer <token>."


_KEY = "access"


def install_guard(app: Flask, rules: dict[str, Rule], settings: Settings,
                  revocations: Revocations | None = None) -> None:
    """Check every request of `app` against `rules` (endpoint -> Rule); more can be
    added with `add_rules`, and `check_rules` refuses an app with a route left out."""
    app.extensions[_KEY] = dict(rules)
    keys = _checking_keys(settings)
    sign_in = _sign_in_service(settings) if keys is not None else None
    if sign_in is not None and revocations is None:
        revocations = RevocationClient(f"{settings.sign_in_service_url}/revoked", settings.sign_in_credential,
                                       settings.clock, sign_in.refused_credential())

    def check():
        if keys is None:
            g.identity = ANYONE
        # No route: Flask answers 404 or 405 by itself.
        rule = PUBLIC if request.endpoint is None else access_rules(app).get(request.endpoint)
        if rule is None:  # never open by default
            raise ConfigurationError(f"The endpoint {request.endpoint} has no access rule.")
        if keys is None:
            return None
        assert revocations is not None and sign_in is not None  # made above whenever sign-in is on
        refusal = _decide(rule, sign_in, *_identify(keys, settings, revocations))
        if refusal is None and rule.renews and _opens_a_page_due_for_renewal(settings.clock()):
            return refusals.renewal(sign_in)
        return refusal

    app.before_request(check)
    app.after_request(_keep_private)
    app.context_processor(lambda: _caller_context(sign_in))


def _checking_keys(settings: Settings) -> PublicKeys | None:
    """The keys this service checks tokens with: its own public keys if it signs them,
    the sign-in service's otherwise; None: sign-in is off."""
    if settings.signs_tokens:
        return KeySet.of(settings.signing_key) if settings.signing_key else None
    return public_keys(settings.signing_public_keys, settings.clock) if settings.signing_public_keys else None


def _sign_in_service(settings: Settings) -> SignInService:
    """Where the people a service checks sign in: its settings must say while sign-in is on."""
    if settings.sign_in is None or settings.sign_in_service_url is None:
        raise ConfigurationError(f"Sign-in is on ({settings.keys_variable.name} is set), and the settings of "
                                 f"{settings.service} name no service to sign in at.")
    return settings.sign_in


def add_rules(app: Flask, rules: dict[str, Rule]) -> None:
    access_rules(app).update(rules)


def access_rules(app: Flask) -> dict[str, Rule]:
    """The rule of each endpoint of `app`, as `install_guard` and `add_rules` gave them."""
    return app.extensions.setdefault(_KEY, {})


def check_rules(app: Flask) -> Flask:
    """`app`, refused (ConfigurationError) when a route of it has no rule: a new route
    cannot be left open, or shut, by mistake."""
    rules = access_rules(app)
    missing = sorted({rule.endpoint for rule in app.url_map.iter_rules()} - rules.keys())
    if missing:
        raise ConfigurationError(f"These endpoints have no access rule: {', '.join(missing)}. "
                                 "Give each one in the service's access table (<service>/access.py).")
    return app


def current_identity() -> Identity | None:
    """Who the current request speaks for; None when it carried no usable token."""
    return g.get("identity")


def has_credential() -> bool:
    """Whether the current request carried a valid token (never while sign-in is off)."""
    identity = current_identity()
    return identity is not None and identity is not ANYONE


def _identify(keys: PublicKeys, settings: Settings,
              revocations: Revocations) -> tuple[Identity | None, str | KeysUnavailable | None]:
    """The caller's identity, or why its token cannot be used (KeysUnavailable: why it
    cannot be judged now); (None, None) without one."""
    try:
        token = _token()
        if token is None:
            return None, None
        identity = tokens.verify(keys, token, settings.clock())
    except TokenError as error:
        return None, str(error)
    except KeysUnavailable as error:
        return None, error
    reason = revocations.refusal(identity)
    return (None, reason) if reason else (identity, None)


def _token() -> str | None:
    """A program's bearer token, else the browser's cookie; None when there is neither."""
    header = request.headers.get("Authorization")
    if header is not None:
        scheme, _, token = header.strip().partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise TokenError(NOT_BEARER)
        return token.strip()
    return request.cookies.get(COOKIE) or None


def _decide(rule: Rule, sign_in: SignInService, identity: Identity | None,
            problem: str | KeysUnavailable | None):
    g.identity = identity
    if rule.opens(request):
        g.public = True  # a bad token does not shut a public page
        return None
    if isinstance(problem, KeysUnavailable):
        return refusals.not_now(str(problem))
    if problem is not None:
        return refusals.bad_token(problem, sign_in)
    if identity is None:
        return refusals.not_signed_in(sign_in)
    if not rule.admits(identity.roles):
        return refusals.not_allowed(identity, rule)
    return None


def _opens_a_page_due_for_renewal(now: datetime) -> bool:
    """Whether a browser opens a page (a navigation, with its cookie) while its sign-in
    is due for renewal."""
    identity = current_identity()
    return (identity is not None and identity.due_for_renewal(now) and request.method == "GET"
            and "Authorization" not in request.headers and wants_html()
            and request.headers.get("Sec-Fetch-Mode", "navigate") == "navigate")


def _keep_private(response):
    """A guarded answer, or a page naming who is signed in, is the caller's own."""
    if current_identity() is ANYONE or "identity" not in g:  # sign-in off, or not decided
        return response
    if not g.get("public"):
        cache_control = response.headers.get("Cache-Control")
        if cache_control is not None:
            response.headers["Cache-Control"] = _private(cache_control)
    if not g.get("public") or g.get("caller_shown"):
        for header in CALLER_VARY:
            response.vary.add(header)
    return response


def _private(cache_control: str) -> str:
    directives = [part.strip() for part in cache_control.split(",") if part.strip()]
    if "no-store" in directives or "private" in directives:
        return cache_control
    return ", ".join(["private"] + [part for part in directives if part != "public"])


def _caller_context(sign_in: SignInService | None) -> dict:
    """For the layout: `sign_in` (whether sign-in is on), `caller` (who is signed in)
    and where to sign in and out; None: sign-in is off."""
    if sign_in is None:
        return {"sign_in": False, "caller": None}
    g.caller_shown = True
    return {"sign_in": True, "caller": current_identity(), "sign_in_url": partial(refusals.sign_in_url, sign_in),
            "sign_out_url": sign_in.sign_out, "account_url": sign_in.account_page}
