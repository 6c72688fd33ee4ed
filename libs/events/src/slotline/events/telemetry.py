"""OpenTelemetry tracing: one tracer provider per process, exported over OTLP/HTTP.

Trace context crosses Kafka in the W3C ``traceparent`` header (FastStream's telemetry
middleware on the consumer side, the relay on the producer side).
"""

from __future__ import annotations

from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor

_configured: TracerProvider | None = None


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
        return _configured
    provider = TracerProvider(
        resource=Resource.create(
            {"service.name": f"slotline-{service}", "deployment.environment": environment}
        )
    )
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
