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


async def test_no_exported_span_holds_a_bearer_token_or_a_query_string() -> None:
    """Issue 17.9: a manage link's path is its token, and a query may name a phone."""
    import httpx
    from fastapi import FastAPI

    from slotline.events.http import instrument_tracing
    from slotline.events.telemetry import NoSecretsInUrls

    exporter = InMemorySpanExporter()
    provider = TracerProvider(resource=Resource.create({}))
    provider.add_span_processor(NoSecretsInUrls())
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    app = FastAPI()

    @app.get("/v1/manage/{token}/card/{booking_id}")
    def card(token: str, booking_id: str) -> dict[str, str]:
        return {"ok": token[:3] + booking_id[:3]}

    instrument_tracing(app, provider)
    token = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjMifQ.c2lnbmF0dXJlLXNpZ25hdHVyZQ"
    booking_id = "6b478e2f-9b5d-47aa-9619-aef29b6b17bb"
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://svc") as client:
        answer = await client.get(f"/v1/manage/{token}/card/{booking_id}?phone=%2B306912345678")
    assert answer.status_code == 200
    exported = " ".join(
        f"{span.name} {dict(span.attributes or {})}" for span in exporter.get_finished_spans()
    )
    assert exported
    assert token not in exported
    assert "306912345678" not in exported
    assert booking_id in exported, "ids are not secrets: traces still find the booking"
