"""Wiring shared by every service process: store, relay, inbox, HTTP, lifecycle.

A service describes itself with a :class:`ServiceSpec`; :func:`build_http_app` turns
it into a FastAPI app whose lifespan starts and stops the broker, the relay and the
consumers, and :func:`serve` runs that app with graceful shutdown on SIGTERM.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Annotated, Any, Generic, Protocol, TypeVar

import anyio
import psycopg
import uvicorn
from aiokafka import AIOKafkaProducer
from fastapi import APIRouter, Depends, FastAPI, Request
from faststream.kafka import KafkaBroker
from prometheus_client import CollectorRegistry
from starlette.exceptions import HTTPException as StarletteHTTPException
from tenacity import AsyncRetrying, retry_if_exception_type, wait_exponential

from slotline.events.audit import AuditTrail, audit_router, publish_audit
from slotline.events.auth import AuthSettings, TokenVerifier
from slotline.events.body_limit import BodyLimit
from slotline.events.broker_watch import BrokerRestarts
from slotline.events.channel_watch import ChannelWatch, Listener
from slotline.events.contract.registry import parse_message
from slotline.events.group_commit import GroupCommit
from slotline.events.heap import CollectorPauses, SurvivorFreezer, settle_after_start
from slotline.events.http import (
    ReadinessCheck,
    install_error_handlers,
    instrument,
    operations_router,
)
from slotline.events.http_contract import StorableTextGuard, method_not_allowed, truthful_openapi
from slotline.events.inbox import Inbox, Parser, Subscription
from slotline.events.kafka import RecordSender, build_broker, build_producer
from slotline.events.logs import configure_logging, get_logger
from slotline.events.metrics import InboxMetrics, RelayMetrics
from slotline.events.privacy.erasure_notice import ErasureNotices
from slotline.events.production import PRODUCTION, refuse_unsafe_production
from slotline.events.publishing import Publisher
from slotline.events.relay import IntegrationMapper, OutboxRelay
from slotline.events.security_headers import SecurityHeaders
from slotline.events.settings import ServiceSettings
from slotline.events.store import (
    ServiceApplication,
    ensure_schema,
    postgres_env,
    privacy_master_key,
)
from slotline.events.telemetry import configure_tracing
from slotline.events.topic_access import check_reads
from slotline.events.wire_sealing import wire_keys

log = get_logger(__name__)

App = TypeVar("App", bound=ServiceApplication)

__all__ = ["BackgroundTask", "Runtime", "ServiceSpec", "Subscription", "build_http_app", "serve"]


class BackgroundTask(Protocol):
    """Work a service runs beside HTTP and Kafka (a projection, a timer job).

    ``run`` works until ``stop``; if it raises, the runtime restarts it with backoff.
    """

    name: str

    async def run(self) -> None: ...

    def stop(self) -> None: ...


@dataclass
class ServiceSpec(Generic[App]):
    """What a service is made of; the runtime supplies everything else.

    ``application_factory`` opens the service's own application type ``App``; the
    publisher, subscriptions and background tasks are built from that same ``App``, so a
    service wired to the wrong application fails type checking, and at start.
    """

    settings: ServiceSettings
    application_factory: Callable[[dict[str, str]], App]
    publisher: Callable[[App], Publisher | IntegrationMapper]
    subscriptions: Callable[[App], Sequence[Subscription]] = lambda _: ()
    routers: Sequence[APIRouter] = ()
    title: str = "Slotline"
    parser: Parser = parse_message
    error_statuses: Mapping[type[Exception], int] = field(default_factory=dict)
    background: Callable[[App], Sequence[BackgroundTask]] = lambda _: ()
    relays: bool = True  # False: a process of the service that only projects (no outbox)
    metrics: Callable[[App, CollectorRegistry], None] = lambda _, __: None
    """Registers the service's own metrics on the registry ``/metrics`` serves."""
    readiness: Mapping[str, Callable[[App], Awaitable[tuple[bool, str]]]] = field(
        default_factory=dict
    )
    """The service's own ``/readyz`` checks by name, each given the open application."""


@dataclass
class Runtime:
    """The live parts of one service process."""

    spec: ServiceSpec[Any]
    registry: CollectorRegistry = field(default_factory=CollectorRegistry)
    application: ServiceApplication | None = None
    broker: KafkaBroker | None = None
    producer: AIOKafkaProducer | None = None
    """The relay's (records it sends skip FastStream's per-record span and middleware)."""
    relay: OutboxRelay | None = None
    inbox: Inbox | None = None
    writer: GroupCommit | None = None
    audit: AuditTrail | None = None
    background: list[BackgroundTask] = field(default_factory=list)
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)

    @property
    def settings(self) -> ServiceSettings:
        return self.spec.settings

    def open_store(self) -> ServiceApplication:
        """The service's store, its tables made if missing — one process at a time: the
        processes of one service (replicas, api and projector) often start together,
        and concurrent ``CREATE TABLE IF NOT EXISTS`` in PostgreSQL can still collide."""
        settings = self.settings
        privacy_key = settings.privacy_master_key
        wire_keys.configure(
            privacy_master_key(privacy_key.get_secret_value() if privacy_key else None)
        )
        env = postgres_env(
            settings.database_url,
            settings.schema_name,
            settings.database_pool_size,
            privacy_key.get_secret_value() if privacy_key else None,
            application_name=f"slotline-{settings.service_name}",
        )
        lock = f"slotline-schema:{settings.schema_name}"
        with psycopg.connect(settings.database_url, autocommit=True) as connection:
            connection.execute("SELECT pg_advisory_lock(hashtext(%s))", (lock,))
            try:
                ensure_schema(settings.database_url, settings.schema_name)
                self.application = self.spec.application_factory(env)
            finally:
                connection.execute("SELECT pg_advisory_unlock(hashtext(%s))", (lock,))
        return self.application

    async def start(self) -> None:
        application = await anyio.to_thread.run_sync(self.open_store)
        self.spec.metrics(application, self.registry)
        self.writer = GroupCommit(application, workers=self.settings.group_commit_workers)
        self.audit = AuditTrail(
            self.settings.service_name,
            application.schema,
            alert_distinct_items=self.settings.audit_alert_distinct_items,
            alert_window=timedelta(seconds=self.settings.audit_alert_window_seconds),
        )
        self.broker = build_broker(self.settings)
        subscriptions = self.spec.subscriptions(application)
        check_reads(self.settings.service_name, {s.topic for s in subscriptions})
        if subscriptions:
            self.inbox = Inbox(
                application,
                self.broker,
                self.settings,
                metrics=InboxMetrics.register(self.registry),
                parser=self.spec.parser,
            )
            for subscription in subscriptions:
                self.inbox.subscribe(subscription)
        await self.broker.start()  # the inbox joins its group in the background (run)
        publisher = self.spec.publisher(application)
        if isinstance(publisher, Publisher):
            publish_audit(publisher)
        if self.spec.relays:
            self.producer = build_producer(self.settings)
            await self.producer.start()
            self.relay = OutboxRelay(
                application,
                RecordSender(self.producer),
                publisher,
                database_url=self.settings.database_url,
                batch_size=self.settings.relay_batch_size,
                idle_poll_seconds=self.settings.relay_idle_poll_seconds,
                metrics=RelayMetrics.register(self.registry),
                on_published=self.inbox.expect_traffic if self.inbox is not None else None,
            )
        relays: list[BackgroundTask] = [self.relay] if self.relay is not None else []
        consumers: list[BackgroundTask] = [self.inbox] if self.inbox is not None else []
        watch = ChannelWatch(self.settings.database_url, self._listeners(application))
        watches: list[BackgroundTask] = [watch] if watch.listeners else []
        self.background = [*relays, *consumers, *watches, *self.spec.background(application)]
        self._tasks = [
            asyncio.create_task(self._supervise(task), name=task.name) for task in self.background
        ]

    def _listeners(self, application: ServiceApplication) -> list[Listener]:
        """What this process hears from PostgreSQL, on one connection: that the local
        broker restarted empty (its inbox reads from the start), and every erasure in the
        store made by another process (it forgets what it cached)."""
        listeners: list[Listener] = []
        if self.inbox is not None:
            listeners.append(BrokerRestarts(self.inbox.rewind))
        vault = application.vault
        if vault.erasures_channel is not None:
            listeners.append(ErasureNotices(vault.erasures_channel, vault.origin, application))
        return listeners

    async def stop(self) -> None:
        """Stop consuming, let in-flight work finish, stop relaying, close the store.

        The broker closes only after the background tasks: the relay may be publishing
        a batch (the outcomes of the last messages handled) on its producer.
        """
        if self.inbox is not None:  # stop consuming; the batch in hand finishes first
            self.inbox.stop()
        for task in self.background:
            task.stop()
        if self._tasks:
            grace = self.settings.graceful_timeout_seconds
            _, late = await asyncio.wait(self._tasks, timeout=grace)
            if late:  # named, so an operator sees what held the shutdown
                log.warning(
                    "background tasks did not stop within the grace; cancelled",
                    tasks=sorted(running.get_name() for running in late),
                )
                for running in late:
                    running.cancel()
                await asyncio.gather(*late, return_exceptions=True)
        if self.inbox is not None:
            await self.inbox.close()
        if self.writer is not None:
            await self.writer.close()
        if self.producer is not None:
            await self.producer.stop()
        if self.broker is not None:
            await self.broker.stop()
        if self.application is not None:
            await anyio.to_thread.run_sync(self.application.close)

    async def _supervise(self, task: BackgroundTask) -> None:
        """Keep a background task running: a dead connection or broker error restarts it."""
        async for attempt in AsyncRetrying(
            retry=retry_if_exception_type(Exception),
            wait=wait_exponential(multiplier=0.2, max=10),
            before_sleep=lambda s: log.error(
                "background task failed, restarting",
                task=task.name,
                error=repr(s.outcome.exception() if s.outcome else None),
                exc_info=s.outcome.exception() if s.outcome else None,  # where it failed
            ),
        ):
            with attempt:
                await task.run()

    def readiness_checks(self) -> dict[str, ReadinessCheck]:
        async def database() -> tuple[bool, str]:
            try:
                async with await psycopg.AsyncConnection.connect(
                    self.settings.database_url, connect_timeout=2
                ) as conn:
                    await conn.execute("SELECT 1")
                return True, "ok"
            except psycopg.Error as error:  # logged, not echoed: it names hosts and users
                log.warning("readiness: database unreachable", error=str(error).strip()[:300])
                return False, "unreachable"

        async def kafka() -> tuple[bool, str]:
            if self.broker is None:
                return False, "not started"
            ok = await self.broker.ping(timeout=2.0)
            return ok, "ok" if ok else "no answer from the broker"

        async def relay() -> tuple[bool, str]:
            if not self.spec.relays:
                return True, "relayed by the service's other processes"
            if self.relay is None:
                return False, "not started"
            return self.relay.running, f"{self.relay.state} at position {self.relay.position}"

        async def inbox() -> tuple[bool, str]:
            if self.inbox is None:
                return True, "consumes nothing"
            if self.inbox.joined:
                return True, f"consuming {len(self.inbox.assignment())} partitions"
            return False, "joining its consumer group"

        def own(check: Callable[[Any], Awaitable[tuple[bool, str]]]) -> ReadinessCheck:
            async def run() -> tuple[bool, str]:
                if self.application is None:
                    return False, "the store is not open yet"
                return await check(self.application)

            return run

        own_checks = {name: own(check) for name, check in self.spec.readiness.items()}
        return {"database": database, "kafka": kafka, "relay": relay, "inbox": inbox, **own_checks}


def build_http_app(spec: ServiceSpec[Any], *, own_process: bool = False) -> FastAPI:
    """The service's FastAPI app; its lifespan owns the runtime. In production it is
    never built on published secrets (:mod:`slotline.events.production`). ``own_process``:
    the app is the process (``serve``), so start-up's objects are frozen (:mod:`.heap`)."""
    settings = spec.settings
    refuse_unsafe_production(settings, *settings.production_refusals())
    configure_logging(settings.service_name, settings.log_level, settings.log_json)
    configure_tracing(settings.service_name, settings.environment, settings.otel_exporter_endpoint)
    runtime = Runtime(spec)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await runtime.start()
        pauses, survivors, frozen = None, None, 0
        if own_process:
            frozen = settle_after_start()
            pauses = CollectorPauses(runtime.registry)
            pauses.install()
            survivors = SurvivorFreezer(settings.gc_thaw_seconds)
            survivors.install()
        log.info("service started", service=settings.service_name, frozen_objects=frozen)
        try:
            yield
        finally:
            if pauses is not None:
                pauses.uninstall()
            if survivors is not None:
                survivors.uninstall()
            await runtime.stop()
            log.info("service stopped", service=settings.service_name)

    docs = settings.api_docs
    if docs is None:  # a map of every route is for developers, not for the internet
        docs = settings.environment.lower() not in PRODUCTION
    app = FastAPI(
        title=f"{spec.title} — {settings.service_name}",
        lifespan=lifespan,
        docs_url="/docs" if docs else None,
        redoc_url="/redoc" if docs else None,
        openapi_url="/openapi.json" if docs else None,
    )
    app.state.runtime = runtime
    app.state.token_verifier = TokenVerifier.from_settings(AuthSettings())
    app.include_router(operations_router(runtime.registry, runtime.readiness_checks()))
    app.include_router(audit_router())
    for router in spec.routers:
        app.include_router(router)
    install_error_handlers(app, spec.error_statuses)
    app.add_exception_handler(StarletteHTTPException, method_not_allowed)
    truthful_openapi(app, spec.error_statuses)
    instrument(app, runtime.registry)
    app.add_middleware(StorableTextGuard)
    app.add_middleware(
        BodyLimit,
        limit=settings.http_max_body_kb * 1024,
        webhook_limit=settings.http_max_webhook_body_kb * 1024,
    )
    app.add_middleware(SecurityHeaders)  # the outermost: a refusal carries them too
    return app


def server_config(spec: ServiceSpec[Any]) -> uvicorn.Config:
    """How the service's HTTP server runs: its address, graceful shutdown and how long
    an idle client connection is kept."""
    settings = spec.settings
    return uvicorn.Config(
        build_http_app(spec, own_process=True),
        host=settings.http_host,
        port=settings.http_port,
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=int(settings.graceful_timeout_seconds),
        timeout_keep_alive=settings.http_keep_alive_seconds,
    )


def serve(spec: ServiceSpec[Any]) -> None:
    """Run the service until SIGINT/SIGTERM, then shut down gracefully."""
    uvicorn.Server(server_config(spec)).run()


def current_application(request: Request) -> ServiceApplication:
    """FastAPI dependency: the service's event-sourced application."""
    application = request.app.state.runtime.application
    if application is None:
        raise RuntimeError("the service's store is not open yet")
    return application  # type: ignore[no-any-return]


def application_dependency(kind: type[App]) -> Callable[[Request], Awaitable[App]]:
    """A FastAPI dependency giving a service's routes its own application type: the one
    check that the routes were mounted on the service they were written for."""

    async def dependency(request: Request) -> App:  # no I/O: on the loop, no thread hop
        application = current_application(request)
        if not isinstance(application, kind):
            raise TypeError(f"these routes need {kind.__name__}, not {type(application).__name__}")
        return application

    dependency.__name__ = f"{kind.__name__}_dependency"
    return dependency


async def current_writer(request: Request) -> GroupCommit:
    """FastAPI dependency: the service's group commit, for use cases of concurrent requests."""
    writer = request.app.state.runtime.writer
    if writer is None:
        raise RuntimeError("the service's store is not open yet")
    return writer  # type: ignore[no-any-return]


Writer = Annotated[GroupCommit, Depends(current_writer)]
"""A route's group commit: its use case shares a unit of work with concurrent ones."""
