"""Two services wired by the runtime: HTTP → store → relay → Kafka → inbox, one trace."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Annotated, TypeVar

import httpx
import pytest
import uvicorn
from fastapi import APIRouter, Depends, FastAPI
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from slotline.events.auth import DEV_SECRET, Principal, Role, TokenIssuer, require_roles
from slotline.events.kafka import ensure_topics
from slotline.events.local.infra import free_port
from slotline.events.runtime import ServiceSpec, Subscription, build_http_app, current_application
from slotline.events.settings import ServiceSettings
from slotline.events.store import ServiceApplication, event_meta
from slotline.events.testing.reading import eventually
from slotline.events.testing.tally import (
    TALLY_TOPIC,
    Credit,
    Tally,
    TallyApplication,
    TallyCounted,
    TallyLedger,
    parse_tally,
    tally_to_message,
)
from slotline.events.topics import dead_letter_topic

pytestmark = pytest.mark.integration

App = TypeVar("App", bound=ServiceApplication)

counting = APIRouter()


@counting.post("/tallies", status_code=201)
def open_tally(
    principal: Annotated[Principal, Depends(require_roles(Role.STAFF))],
    app: Annotated[ServiceApplication, Depends(current_application)],
) -> dict[str, str]:
    tally = Tally(principal.tenant_id)
    tally.count(3)
    app.save(tally)
    return {"id": str(tally.id)}


def settings(name: str, database_url: str, bootstrap: str) -> ServiceSettings:
    return ServiceSettings(
        service_name=name,
        database_url=database_url,
        kafka_bootstrap=bootstrap,
        http_port=free_port(),
        log_json=True,
    )


@asynccontextmanager
async def serving(spec: ServiceSpec[App]) -> AsyncIterator[tuple[str, FastAPI]]:
    """Run the service on real HTTP until the block ends; yield its URL and app."""
    app = build_http_app(spec)
    server = uvicorn.Server(uvicorn.Config(app, port=spec.settings.http_port, log_config=None))
    task = asyncio.create_task(server.serve())
    url = f"http://127.0.0.1:{spec.settings.http_port}"
    async with httpx.AsyncClient() as client:

        async def ready() -> bool:
            try:
                return (await client.get(f"{url}/readyz")).status_code == 200
            except httpx.TransportError:
                return False

        await eventually(ready)
    try:
        yield url, app
    finally:
        server.should_exit = True
        await task


def token(roles: list[str], tenant: str = "acme") -> dict[str, str]:
    minted = TokenIssuer(DEV_SECRET).mint("tester", tenant, roles, timedelta(minutes=5))
    return {"Authorization": f"Bearer {minted}"}


async def test_a_request_flows_to_the_consumer_once_in_one_trace(
    database_url: str, kafka_bootstrap: str, span_exporter: InMemorySpanExporter
) -> None:
    await ensure_topics(kafka_bootstrap, [TALLY_TOPIC, dead_letter_topic(TALLY_TOPIC)])
    counter = ServiceSpec(
        settings=settings("counter", database_url, kafka_bootstrap),
        application_factory=lambda env: TallyApplication(env=env),
        publisher=lambda _: tally_to_message,
        routers=[counting],
    )
    ledger = ServiceSpec(
        settings=settings("ledger", database_url, kafka_bootstrap),
        application_factory=lambda env: TallyLedger(env=env),
        publisher=lambda _: lambda _: None,
        subscriptions=lambda app: [Subscription(TALLY_TOPIC, {TallyCounted: app.credit_count})],
        parser=parse_tally,
    )
    async with serving(counter) as (counter_url, _), serving(ledger) as (_, ledger_app):
        async with httpx.AsyncClient(base_url=counter_url) as client:
            refused = await client.post("/tallies")
            assert refused.status_code == 401
            created = await client.post("/tallies", headers=token(["front_desk"]))
            assert created.status_code == 201, created.text
            tally_id = created.json()["id"]

        ledger_store: TallyLedger = ledger_app.state.runtime.application

        def credited() -> list[object]:
            try:
                return list(ledger_store.events.get(Credit.create_id(tally_id)))
            except Exception:
                return []

        await eventually(lambda: len(credited()) == 2)
        credit: Credit = ledger_store.repository.get(Credit.create_id(tally_id))
        assert credit.amounts == [3]

        request_spans = [s for s in span_exporter.get_finished_spans() if s.name == "POST /tallies"]
        trace_ids = {s.context.trace_id for s in request_spans if s.status.is_ok}
        stored_trace = event_meta(credited()[-1])["traceparent"].split("-")[1]
        assert int(stored_trace, 16) in trace_ids  # HTTP → store → Kafka → consumer: one trace


async def test_a_replica_drops_its_cached_aggregates_when_another_erases_someone(
    database_url: str, kafka_bootstrap: str
) -> None:
    """Two replicas of one service: what one erases, the other must not go on showing
    from its cache (the runtime has every process hear the store's erasures)."""
    await ensure_topics(kafka_bootstrap, [TALLY_TOPIC, dead_letter_topic(TALLY_TOPIC)])

    def replica() -> ServiceSpec[TallyApplication]:
        return ServiceSpec(
            settings=settings("counter", database_url, kafka_bootstrap),
            application_factory=lambda env: TallyApplication(env=env),
            publisher=lambda _: tally_to_message,
        )

    async with serving(replica()) as (_, first), serving(replica()) as (_, second):
        eraser: TallyApplication = first.state.runtime.application
        reader: TallyApplication = second.state.runtime.application
        tally = Tally("acme")
        tally.count(2)
        reader.save(tally)
        cache = reader.repository.cache
        assert cache is not None
        assert reader.repository.get(tally.id).total == 2
        assert cache.get(tally.id) is not None  # kept in the reader's cache

        await asyncio.to_thread(eraser.erase, "acme", "customer-1")

        def dropped() -> bool:
            held = reader.repository.cache
            assert held is not None
            try:
                held.get(tally.id)
            except KeyError:
                return True
            return False

        await eventually(dropped)
