"""What an OpenAPI document says of signing in, read from the app's own access table:
each operation that needs a token names the bearer scheme and its 401 and 403 answers;
one open to anyone for some requests (the thin feed pages) lists no credential as an
alternative. Derived, so that the document and the table cannot say different things."""
from __future__ import annotations

import copy

from flask import Flask

from common.auth.guard import access_rules
from common.openapi.paths import SKIPPED_METHODS, openapi_path
from common.openapi.parts import answer, schema
from common.settings import SignInService
from common.web.app import settings_of

NOT_SIGNED_IN = answer("No usable token: sign in first (the sentence says why).", schema("Error"))
NOT_ALLOWED = answer("The account's roles do not allow this.", schema("Error"))


def with_security(document: dict, app: Flask) -> dict:
    """`document` with what signing in takes for each of its operations."""
    secured = copy.deepcopy(document)
    secured["components"]["securitySchemes"] = {"bearer": bearer(settings_of(app).sign_in)}
    rules = access_rules(app)
    for rule in app.url_map.iter_rules():
        path = openapi_path(rule.rule)
        access = rules.get(rule.endpoint)
        for method in (rule.methods or set()) - SKIPPED_METHODS:
            operation = secured["paths"].get(path, {}).get(method.lower())
            if operation is None or access is None or access.public:
                continue
            operation["security"] = [{"bearer": []}] + ([{}] if access.public_when else [])
            operation["responses"].setdefault("401", NOT_SIGNED_IN)
            operation["responses"].setdefault("403", NOT_ALLOWED)
    return secured


def bearer(sign_in: SignInService | None) -> dict:
    """The bearer scheme, with where its tokens come from when the settings say."""
    source = f"`POST {sign_in.token}`" if sign_in else "the sign-in service"
    return {"type": "http", "scheme": "bearer", "bearerFormat": "JWT",
            "description": f"A token from {source}, or the sign-in cookie of a browser."}
