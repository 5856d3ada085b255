"""Tracing with OpenTelemetry, set by its standard variables: on when an OTLP endpoint
is named (OTEL_EXPORTER_OTLP_ENDPOINT or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, and
OTEL_SDK_DISABLED is not `true`), its spans sent there over HTTP in batches; off
otherwise, and then nothing of OpenTelemetry is even imported: no exporter, no thread.
OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES, OTEL_TRACES_SAMPLER and the exporter's
own variables (headers, timeout) apply as everywhere.

Each app has a tracer of its own, under its service's name (`msatom run` serves four
in one process); common/web/tracing.py makes every request a span of it.

A trace crosses the feed by the `traceparent` each entry's document carries: the
context of the change that wrote it (the writer's `current_traceparent`). A consumer's import of the entry is a span of
its own trace, linked to that context (OpenTelemetry's messaging conventions: a
`process` span with a link to the publishing context), so the link comes from the
stored document, after a restart or in a rebuild alike.
"""
from __future__ import annotations

import os
from collections.abc import Mapping
from contextlib import contextmanager
from typing import Any

ENDPOINTS = ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT")
TRACEPARENT = "traceparent"
_traced = False  # whether this process made a tracer: only then is OpenTelemetry imported


def tracer_for(service: str, environ: Mapping[str, str] = os.environ) -> Any | None:
    """A tracer whose spans go to the OTLP endpoint the environment names, as
    `service`'s (unless OTEL_SERVICE_NAME names it); None when tracing is off."""
    if not any(environ.get(name, "").strip() for name in ENDPOINTS) \
            or environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return None
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import SERVICE_NAME, Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    global _traced
    provider = TracerProvider(resource=Resource.create({SERVICE_NAME: environ.get("OTEL_SERVICE_NAME") or service}))
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    _traced = True
    return provider.get_tracer("msatom")


def current_traceparent() -> str | None:
    """The W3C traceparent of the span now current, to keep with what it wrote; None
    when there is none (tracing off)."""
    if not _traced:
        return None
    from opentelemetry import trace

    context = trace.get_current_span().get_span_context()
    if not context.is_valid:
        return None
    return f"00-{context.trace_id:032x}-{context.span_id:016x}-{int(context.trace_flags):02x}"


def current_ids() -> dict:
    """`trace_id` and `span_id` of the span now current, for a log line; None without one."""
    context = None
    if _traced:
        from opentelemetry import trace

        context = trace.get_current_span().get_span_context()
    if context is None or not context.is_valid:
        return {"trace_id": None, "span_id": None}
    return {"trace_id": f"{context.trace_id:032x}", "span_id": f"{context.span_id:016x}"}


@contextmanager
def processing(tracer: Any | None, imports: list[tuple[int, str, Any, Any]]):
    """A `process` span of `tracer`'s for each feed entry imported, (position, entry id,
    document id, document), from now until the block ends (the transaction that
    imports them commits), each linked to the context its document carries."""
    if tracer is None or not imports:
        yield
        return
    from opentelemetry import trace

    spans = [tracer.start_span("process feed entry", kind=trace.SpanKind.CONSUMER, links=_links(document),
                               attributes={"messaging.system": "atom", "messaging.operation.type": "process",
                                           "messaging.message.id": entry_id, "msatom.feed.position": position,
                                           "msatom.feed.document.id": document_id})
             for position, entry_id, document_id, document in imports]
    try:
        yield
    except BaseException as error:
        for started in spans:
            started.record_exception(error)
            started.set_status(trace.Status(trace.StatusCode.ERROR))
        raise
    finally:
        for started in spans:
            started.end()


def _links(document: Any) -> list:
    """A link to the context a document carries in its `traceparent`; none without one."""
    from opentelemetry import trace
    from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

    carried = document.get(TRACEPARENT) if isinstance(document, dict) else None
    if not isinstance(carried, str):
        return []
    context = trace.get_current_span(TraceContextTextMapPropagator().extract({TRACEPARENT: carried}))
    span_context = context.get_span_context()
    return [trace.Link(span_context)] if span_context.is_valid else []


