"""WSGI entry points for production servers, configured by the environment:

    gunicorn 'msatom.wsgi:account()'
    gunicorn 'msatom.wsgi:order()'
    gunicorn 'msatom.wsgi:invoicing()'
    gunicorn 'msatom.wsgi:shipping()'

Each call builds a new app, so nothing is built when this module is imported. A setting
that production cannot use (SECRET_KEY missing, say) stops gunicorn at once with the one
line that says why, instead of a traceback per worker: so do missing keys of the sign-in
tokens (SIGNING_KEY, SIGNING_PUBLIC_KEYS), and missing credentials (ACCOUNT_CREDENTIAL,
a consumer's ORDER_CREDENTIAL).
"""
from __future__ import annotations

from flask import Flask
from gunicorn.errors import AppImportError

from common.logs import configure_logging
from common.settings import ConfigurationError
from msatom.bootstrap import create_app, settings_from_env


def account() -> Flask:
    return production_app("account")


def order() -> Flask:
    return production_app("order")


def invoicing() -> Flask:
    return production_app("invoicing")


def shipping() -> Flask:
    return production_app("shipping")


def production_app(service: str) -> Flask:
    configure_logging(service=service)  # gunicorn sets up its own logs only; ours carry the request id
    try:
        settings = settings_from_env(service).for_production()
    except ConfigurationError as error:
        raise AppImportError(f"msatom {service}: {error}") from None
    return create_app(service, settings)
