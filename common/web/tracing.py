"""Every request of an app a server span of its tracer (common/tracing.py), continuing
the caller's trace when it sends a W3C `traceparent`; the URL's query is left out (a
search may name a customer). The trace's id is left in the request's WSGI environ
(TRACE_ID) for the access log. Nothing is imported of OpenTelemetry while tracing is off."""
from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext
from typing import Any

from flask import Flask, current_app, g, request

_KEY = "tracer"
TRACE_ID = "msatom.trace_id"  # the request's trace, in its WSGI environ


def install(app: Flask, tracer: Any | None) -> None:
    """Every request of `app` a server span of `tracer`'s; nothing without one."""
    if tracer is None:
        return
    app.extensions[_KEY] = tracer
    app.before_request_funcs.setdefault(None, []).insert(0, _start_request)  # before any hook that may answer
    app.after_request(_answered)
    app.teardown_request(_end_request)


def span(name: str, **attributes) -> AbstractContextManager:
    """A span of the current app's around a step of a request (a use case, say)."""
    tracer = current_app.extensions.get(_KEY)
    return nullcontext() if tracer is None else tracer.start_as_current_span(name, attributes=attributes)


def _start_request() -> None:
    from opentelemetry import context, propagate, trace

    tracer = current_app.extensions[_KEY]
    started = tracer.start_span(request.method, context=propagate.extract(request.headers),
                                kind=trace.SpanKind.SERVER,
                                attributes={"http.request.method": request.method, "url.path": request.path,
                                            "url.scheme": request.scheme})
    g.msatom_span, g.msatom_span_token = started, context.attach(trace.set_span_in_context(started))
    # For the access log's line, written once the answer is sent and the span is over.
    request.environ[TRACE_ID] = f"{started.get_span_context().trace_id:032x}"


def _answered(response):
    started = g.get("msatom_span")
    if started is not None:
        route = request.url_rule.rule if request.url_rule is not None else None
        if route is not None:
            started.update_name(f"{request.method} {route}")
            started.set_attribute("http.route", route)
        started.set_attribute("http.response.status_code", response.status_code)
        if response.status_code >= 500:
            from opentelemetry.trace import Status, StatusCode

            started.set_status(Status(StatusCode.ERROR))
    return response


def _end_request(error: BaseException | None) -> None:
    started = g.pop("msatom_span", None)
    if started is None:
        return
    from opentelemetry import context

    if error is not None:
        started.record_exception(error)
    context.detach(g.pop("msatom_span_token"))
    started.end()
