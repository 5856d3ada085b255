"""The access log of `msatom run` and `msatom serve` (ACCESS_LOG)."""
from __future__ import annotations

import logging

import pytest
from werkzeug.test import Client
from werkzeug.wrappers import Response

from common.settings import ConfigurationError
from msatom.access_log import access_log_mode, with_access_log


def answering(status: int):
    def app(environ, start_response):
        return Response("", status)(environ, start_response)
    return app


def access_lines(caplog) -> list[str]:
    return [record.getMessage() for record in caplog.records if record.name == "access"]


@pytest.mark.parametrize("mode, status, lines", [
    ("on", 200, 1), ("on", 304, 0), ("all", 304, 1), ("all", 200, 1), ("off", 200, 0),
])
def test_each_mode_writes_one_line_for_the_requests_it_keeps(caplog, mode, status, lines):
    caplog.set_level(logging.INFO, logger="access")

    Client(with_access_log(answering(status), mode)).get("/order/feed?embed=documents").close()  # as a server does

    assert len(access_lines(caplog)) == lines
    if lines:
        assert access_lines(caplog)[0].startswith(f"GET /order/feed?embed=documents {status} ")


def test_a_request_whose_app_fails_gets_its_line_too(caplog):
    caplog.set_level(logging.INFO, logger="access")

    def failing(environ, start_response):
        raise RuntimeError("broken")

    with pytest.raises(RuntimeError):
        Client(with_access_log(failing, "on")).post("/order/")

    [line] = access_lines(caplog)
    assert line.startswith("POST /order/ 500 ")


def test_the_mode_is_on_unless_set_and_a_mistake_is_named():
    assert access_log_mode({}) == "on"
    assert access_log_mode({"ACCESS_LOG": " ALL "}) == "all"
    with pytest.raises(ConfigurationError, match="ACCESS_LOG='loud' is none of on, all and off."):
        access_log_mode({"ACCESS_LOG": "loud"})
