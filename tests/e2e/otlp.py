"""An OTLP/HTTP receiver for traces, as a collector or Jaeger is to the services: it
takes `POST /v1/traces` (protobuf, decoded with opentelemetry-proto) on a loopback port
and keeps every span it is sent.

    with Receiver() as receiver:   # OTEL_EXPORTER_OTLP_ENDPOINT=receiver.url
        receiver.spans(name="place order")
"""
from __future__ import annotations

import gzip
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (ExportTraceServiceRequest,
                                                                       ExportTraceServiceResponse)


@dataclass(frozen=True)
class Span:
    service: str  # its resource's service.name
    name: str
    trace_id: str  # hex, as a traceparent writes it
    span_id: str
    parent_id: str  # "" for a trace's first span
    kind: int  # opentelemetry.proto's SpanKind: 2 server, 5 consumer
    attributes: dict
    links: tuple[tuple[str, str], ...]  # (trace id, span id) of each span it links to


class Receiver:
    def __init__(self):
        self._spans: list[Span] = []
        self._lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> Receiver:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()

    def spans(self, **wanted) -> list[Span]:
        """The spans received so far whose fields equal `wanted`."""
        with self._lock:
            return [span for span in self._spans if all(getattr(span, key) == value for key, value in wanted.items())]

    def _keep(self, request: ExportTraceServiceRequest) -> None:
        received = []
        for resource_spans in request.resource_spans:
            service = _attributes(resource_spans.resource.attributes).get("service.name", "")
            for scope_spans in resource_spans.scope_spans:
                received += [Span(service, span.name, span.trace_id.hex(), span.span_id.hex(),
                                  span.parent_span_id.hex(), span.kind, _attributes(span.attributes),
                                  tuple((link.trace_id.hex(), link.span_id.hex()) for link in span.links))
                             for span in scope_spans.spans]
        with self._lock:
            self._spans += received

    def _handler(self):
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                if self.headers.get("Content-Encoding") == "gzip":
                    body = gzip.decompress(body)
                receiver._keep(ExportTraceServiceRequest.FromString(body))
                answer = ExportTraceServiceResponse().SerializeToString()
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args):  # quiet: the test says what matters
                pass

        return Handler


def _attributes(key_values) -> dict:
    """OTLP's KeyValue list as a dict of plain values."""
    attributes = {}
    for item in key_values:
        kind = item.value.WhichOneof("value")
        attributes[item.key] = getattr(item.value, kind) if kind else None
    return attributes
