"""Spans are recorded only when something exports them; without an exporter they still
carry ids, so trace context crosses HTTP and Kafka and logs name their trace."""

from __future__ import annotations

import pytest
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from slotline.events.telemetry import _WhenExported

pytestmark = pytest.mark.unit


def test_without_an_exporter_spans_have_ids_but_are_not_recorded() -> None:
    sampler = _WhenExported()
    exporter = InMemorySpanExporter()
    provider = TracerProvider(resource=Resource.create({}), sampler=sampler)
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("test")

    with tracer.start_as_current_span("unexported") as span:
        context = span.get_span_context()
        assert context.is_valid, "ids still made: traceparent and log trace ids work"
        assert not span.is_recording()
    assert exporter.get_finished_spans() == ()

    sampler.exporting = True
    with tracer.start_as_current_span("exported") as span:
        assert span.is_recording()
    assert [s.name for s in exporter.get_finished_spans()] == ["exported"]
