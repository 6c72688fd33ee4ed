"""OpenTelemetry tracing: one tracer provider per process, exported over OTLP/HTTP.

Trace context crosses Kafka in the W3C ``traceparent`` header (the inbox opens a consumer
span under it; the relay sends the context each event was stored in). Spans are recorded
only when something exports them (OTLP, or a test's processor).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import Span, SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.sdk.trace.sampling import (
    ALWAYS_ON,
    Decision,
    ParentBased,
    Sampler,
    SamplingResult,
)
from opentelemetry.trace import Link, SpanKind, TraceState
from opentelemetry.util.types import Attributes

_configured: TracerProvider | None = None

# URL attributes the HTTP instrumentation records at a span's start.
_URL_ATTRIBUTES = ("http.target", "http.url", "url.full", "url.path", "url.query")
_SECRET_SEGMENT = re.compile(r"(?<=/)(?![0-9a-fA-F-]{36}(?:/|$))[A-Za-z0-9._~%-]{32,}(?=/|$)")


class NoSecretsInUrls(SpanProcessor):
    """Scrubs URLs before any exporter sees them: a manage link's or a feed's path holds
    its bearer token, and a query string may hold a phone or an e-mail (issue 17.9). Query
    strings are dropped whole; a path segment of 32+ token characters that is not a UUID
    becomes ``{redacted}``. The route (``http.route``) and the span name already name the
    endpoint."""

    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        scrub_span_urls(span)


def scrub_span_urls(span: Any, *_: Any) -> None:
    """Scrub a span's URL attributes in place (also the ASGI ``server_request_hook``:
    that instrumentation sets its attributes again after the span started)."""
    attributes = getattr(span, "attributes", None) or {}
    for name in _URL_ATTRIBUTES:
        value = attributes.get(name)
        if isinstance(value, str):
            span.set_attribute(name, scrubbed_url(value))


def scrubbed_url(url: str) -> str:
    """``url`` without its query string and with token-like path segments redacted."""
    without_query = url.split("?", 1)[0] if "?" in url else ("" if url.startswith("?") else url)
    return _SECRET_SEGMENT.sub("{redacted}", without_query)


class _WhenExported(Sampler):
    """Records spans only once something exports them. With no exporter every span
    still gets ids (trace context still crosses HTTP and Kafka, logs still carry
    trace ids) but is not recorded: recording spans nobody reads was ~6 % of a busy
    process's CPU (py-spy, ``Tracer.start_span``)."""

    def __init__(self) -> None:
        self.exporting = False
        self._sampled = ParentBased(ALWAYS_ON)

    def should_sample(
        self,
        parent_context: Context | None,
        trace_id: int,
        name: str,
        kind: SpanKind | None = None,
        attributes: Attributes = None,
        links: Sequence[Link] | None = None,
        trace_state: TraceState | None = None,
    ) -> SamplingResult:
        if self.exporting:
            return self._sampled.should_sample(
                parent_context, trace_id, name, kind, attributes, links, trace_state
            )
        return SamplingResult(Decision.DROP)

    def get_description(self) -> str:
        return "RecordWhenExported"


_WHEN_EXPORTED = _WhenExported()


def configure_tracing(
    service: str,
    environment: str = "local",
    otlp_endpoint: str | None = None,
    extra_processor: SpanProcessor | None = None,
) -> TracerProvider:
    """Install the global tracer provider once; later calls return it unchanged."""
    global _configured
    if _configured is not None:
        if extra_processor is not None:
            _configured.add_span_processor(extra_processor)
            _WHEN_EXPORTED.exporting = True
        return _configured
    resource = Resource.create(
        {"service.name": f"slotline-{service}", "deployment.environment": environment}
    )
    if otlp_endpoint or extra_processor is not None:
        provider = TracerProvider(resource=resource)  # OTEL_TRACES_SAMPLER applies
    else:
        provider = TracerProvider(resource=resource, sampler=_WHEN_EXPORTED)
    provider.add_span_processor(NoSecretsInUrls())  # first: before anything exports
    if otlp_endpoint:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        exporter = OTLPSpanExporter(endpoint=f"{otlp_endpoint.rstrip('/')}/v1/traces")
        provider.add_span_processor(BatchSpanProcessor(exporter))
    if extra_processor is not None:
        provider.add_span_processor(extra_processor)
    trace.set_tracer_provider(provider)
    _configured = provider
    return provider


def tracer(name: str) -> trace.Tracer:
    return trace.get_tracer(name)
