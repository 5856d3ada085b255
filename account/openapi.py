"""The account service's API in OpenAPI 3.1 (GET /openapi.json): tokens for programs,
who is signed in, signing out, the list of revoked tokens the services read, and the
public keys they check tokens with."""
from __future__ import annotations

from common.openapi.parts import (BAD_REQUEST, CACHE_CONTROL, ETAG, IF_NONE_MATCH, MOMENT, NOT_MODIFIED, SEE_OTHER,
                                  answer, header, openapi_document, operation, record, schema)
from common.settings import JWKS_PATH
from account.models import NAME_LENGTH
from account.limits import ATTEMPTS_FROM_AN_ADDRESS, FAILURES_FROM_AN_ADDRESS, FAILURES_OF_A_NAME
from account.passwords import Busy
from account.service import ROLES

# The sign-in page, its form and the renewal of a browser's sign-in: for browsers alone.
PAGES = ("account.sign_in_page", "account.sign_in", "account.renew")

NAME = {"type": "string", "minLength": 1, "maxLength": NAME_LENGTH}
CHALLENGE = {"WWW-Authenticate": header("`Bearer`.")}
REFUSED = answer("No valid token: none was sent, or it was not signed by this system, has expired or was "
                 "revoked; `error` says which.", schema("Error"), headers=CHALLENGE)
SCHEMAS = {
    "Credentials": record({"name": NAME, "password": {"type": "string", "minLength": 1}},
                          examples=[{"name": "alice", "password": "correct horse battery staple"}]),
    "Token": record({
        "token": {"type": "string", "description": "A JSON Web Token (EdDSA, Ed25519); send it as "
                                                   "`Authorization: Bearer <token>` to any service."},
        "tokenType": {"const": "Bearer"},
        "expiresAt": {**MOMENT, "description": "When it stops working; ask for a new one then."},
    }),
    "Account": record({"name": {"type": "string"},
                       "roles": {"type": "array", "items": {"type": "string"},
                                 "description": f"Among {', '.join(ROLES)}."}}),
    "Caller": record({
        "signIn": {"enum": ["on", "off"], "description": "`off`: no SIGNING_KEY, everyone may do everything."},
        "name": {"type": ["string", "null"], "description": "The account signed in; null when none is."},
    }, examples=[{"signIn": "on", "name": "alice"}, {"signIn": "on", "name": None}]),
    "Revoked": record({
        "accounts": {"type": "array", "items": record({
            "name": {"type": "string"},
            "removedAt": {**MOMENT, "description": "Every token for this name issued up to then is refused."}})},
        "tokens": {"type": "array", "items": record({
            "id": {"type": "string", "description": "The token's `jti`."},
            "expiresAt": {**MOMENT, "description": "When it would expire; it leaves the list then."}})},
    }),
    "PublicKeys": record({
        "keys": {"type": "array", "items": record({
            "kty": {"const": "OKP"}, "crv": {"const": "Ed25519"},
            "x": {"type": "string", "description": "The public key, base64url (RFC 8037)."},
            "kid": {"type": "string", "description": "Its name in a token's header: its RFC 7638 thumbprint."},
            "alg": {"const": "EdDSA"}, "use": {"const": "sig"}})},
    }),
}
LIMITED = answer(
    f"More than {FAILURES_OF_A_NAME.most} failed sign-ins for this name from this address, or "
    f"{FAILURES_FROM_AN_ADDRESS.most} for any names, within {FAILURES_OF_A_NAME.window.seconds // 60} minutes of "
    f"the first, or {ATTEMPTS_FROM_AN_ADDRESS.most} sign-ins of any outcome from this address within a minute: "
    "refused without a look at the password, even the right one, until that window ends.", schema("Error"),
    headers={"Retry-After": header("Seconds to wait before trying again.")})
BUSY = answer(f"{Busy()} The service checks only a few passwords at a time.", schema("Error"),
              headers={"Retry-After": header("Seconds to wait before trying again.")})

PATHS = {
    "/token": {"post": operation("A bearer token for a program, valid for 1 hour", {
        "200": answer("The token.", schema("Token"), headers={"Cache-Control": CACHE_CONTROL}),
        "400": BAD_REQUEST,
        "401": answer("The name or the password is wrong.", schema("Error"), headers=CHALLENGE),
        "404": answer("Sign-in is off on this system (no SIGNING_KEY).", schema("Error")),
        "413": answer("The body is too large.", schema("Error")),
        "429": LIMITED,
        "503": BUSY,
    }, body=schema("Credentials"))},
    "/": {"get": operation("The account the request's token names", {
        "200": answer("Its name and roles; while sign-in is off, `anyone` with the role admin.", schema("Account"),
                      headers={"Cache-Control": CACHE_CONTROL}),
        "401": REFUSED,
    })},
    "/caller": {"get": operation("Who is signed in, if anyone: for pages that cannot ask their server", {
        "200": answer("Whether sign-in is on, and the name of the account signed in, if one is.", schema("Caller"),
                      headers={"Cache-Control": CACHE_CONTROL}),
    })},
    "/sign-out": {"post": operation("Sign out: the token sent (or the session cookie) is revoked", {
        "204": answer("Signed out; the session cookie is cleared."),
        "303": SEE_OTHER,
    })},
    "/sign-out-everywhere": {"post": operation("Sign out everywhere: every token of the account signed in is "
                                               "revoked, in every browser and program", {
        "204": answer("Signed out everywhere; the session cookie is cleared."),
        "303": SEE_OTHER,
        "401": REFUSED,
    })},
    "/revoked": {"get": operation("The tokens refused before they expire, for the services (role `service`)", {
        "200": answer("The accounts removed, and the tokens signed out that have not expired yet.",
                      schema("Revoked"), headers={"ETag": ETAG, "Cache-Control": CACHE_CONTROL}),
        "304": NOT_MODIFIED,
        "401": REFUSED,
        "403": answer("The token's account has neither the role service nor admin.", schema("Error")),
    }, IF_NONE_MATCH)},
    JWKS_PATH: {"get": operation("The public keys that check the tokens (a JWKS document, RFC 7517)", {
        "200": answer("The key that signs now, and those that signed tokens still valid since a rollover.",
                      schema("PublicKeys"), headers={"ETag": ETAG, "Cache-Control": CACHE_CONTROL}),
        "304": NOT_MODIFIED,
        "404": answer("Sign-in is off on this system (no SIGNING_KEY).", schema("Error")),
    }, IF_NONE_MATCH)},
}


def document() -> dict:
    return openapi_document(
        "Account service",
        "Signing in: bearer tokens for programs, who is signed in, signing out, the list of revoked tokens "
        "the services keep, and the public keys they check tokens with. People sign in with the page at `sign-in`, which sets a session cookie for the "
        "whole site.", PATHS, SCHEMAS)
