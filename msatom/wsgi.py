"""WSGI entry points for production servers, configured by the environment:

    gunicorn 'msatom.wsgi:order()'
    gunicorn 'msatom.wsgi:invoicing()'
    gunicorn 'msatom.wsgi:shipping()'

Each call builds a new app, so nothing is built when this module is imported.
"""
from __future__ import annotations

from flask import Flask

from msatom.services import create_app


def order() -> Flask:
    return create_app("order")


def invoicing() -> Flask:
    return create_app("invoicing")


def shipping() -> Flask:
    return create_app("shipping")
