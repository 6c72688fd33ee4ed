"""Settings shared by every service, read from ``SLOTLINE_*`` environment variables.

A service subclasses :class:`ServiceSettings` for its own options; every field is an
environment variable named ``SLOTLINE_<FIELD>`` (see docs/operations.md).
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, PositiveInt, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from slotline.events.kafka_security import KafkaSecurity
from slotline.events.limit_text import RateLimitText

BackgroundFetchWait = Annotated[
    int,
    Field(
        # a service on no customer's wait (a hop there may take ~50 ms more): a fifth of
        # the empty fetches the embedded broker answers while bookings flow (make loadtest)
        default=100,
        ge=0,
        le=500,
        description="Fetch wait while messages flow (this service is on no customer's "
        "wait, so it polls the embedded broker five times less often than booking).",
    ),
]
"""``kafka_fetch_wait_busy_ms`` of the services off the booking's path (analytics,
notifier, call-intake): ``kafka_fetch_wait_busy_ms: BackgroundFetchWait``."""

BackgroundInboxPace = Annotated[
    float,
    Field(
        # under load a consumer takes whatever has arrived as soon as it is done, so a
        # fast one applies many small batches, each with its transaction and fetch: in
        # make loadtest analytics and call-intake applied ~16-24 batches a second of 6-18
        # records and used the same CPU at 20 and at 38 bookings a second
        default=0.25,
        ge=0,
        le=5,
        description="Least time between the starts of two inbox batches: what arrives "
        "meanwhile waits (up to this long) and is applied together, so a service on no "
        "customer's wait spends less CPU a message under load.",
    ),
]
"""``inbox_pace_seconds`` of the services whose messages may wait a quarter of a second
(analytics, call-intake): ``inbox_pace_seconds: BackgroundInboxPace``."""


class ServiceSettings(BaseSettings):
    """Configuration of one Slotline service process."""

    model_config = SettingsConfigDict(env_prefix="SLOTLINE_", extra="ignore")

    service_name: str = Field(default="slotline", description="Name in logs, traces, metrics.")
    environment: str = Field(default="local", description="local, dev, prod — shown in telemetry.")

    database_url: str = Field(
        default="postgresql://postgres@127.0.0.1:5432/slotline",
        description="PostgreSQL URL (libpq form; host may be a unix-socket directory).",
    )
    database_schema: str | None = Field(
        default=None, description="Schema holding this service's tables; default: service name."
    )
    database_pool_size: PositiveInt = Field(default=5, description="Connections per process.")

    kafka_bootstrap: str = Field(default="127.0.0.1:9092", description="Kafka bootstrap servers.")
    kafka_security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = Field(
        default="PLAINTEXT",
        description="How clients talk to Kafka: PLAINTEXT locally; production needs SASL_SSL.",
    )
    kafka_sasl_mechanism: Literal["SCRAM-SHA-256", "SCRAM-SHA-512"] = Field(
        default="SCRAM-SHA-512", description="SCRAM variant the broker's users have."
    )
    kafka_sasl_username: str | None = Field(
        default=None, description="This service's Kafka user (its ACLs name its topics)."
    )
    kafka_sasl_password: SecretStr | None = Field(
        default=None, description="That user's password (from the broker's user secret)."
    )
    kafka_ssl_ca_file: str | None = Field(
        default=None,
        description="PEM bundle of the CA that signed the brokers' certificates; unset: "
        "the system's CAs.",
    )
    kafka_idempotence: bool = Field(
        default=False,
        description="Idempotent producer: on for Apache Kafka, off for the embedded broker.",
    )
    kafka_group_id: str | None = Field(
        default=None, description="Consumer group id; default: slotline-<service>."
    )
    kafka_fetch_wait_busy_ms: int = Field(
        # 20, not 10: each empty fetch costs the broker and the client CPU; bench-booking's
        # gentle phases used 18 % less CPU a booking at 10/s, with no slower answers
        default=20,
        ge=0,
        le=500,
        description="Fetch wait while messages flow (the embedded broker answers a fetch "
        "only when its wait is over, so this bounds a hop's delay).",
    )
    kafka_fetch_wait_idle_ms: int = Field(
        default=200,
        ge=0,
        le=5000,
        description="Fetch wait once quiet: fewer fetches while idle, at the cost of up to "
        "half of it on the first message after a pause (embedded broker).",
    )
    kafka_busy_linger_seconds: float = Field(
        default=2.0, ge=0, description="How long the consumer stays on the short wait."
    )
    kafka_session_timeout_ms: int = Field(
        default=6000,
        ge=1000,
        description="Consumer group session timeout: a dead member's partitions move after "
        "this long; Tansu also holds a join for half of it.",
    )
    kafka_heartbeat_interval_ms: int = Field(
        default=1500, ge=100, description="Consumer heartbeat interval (a third of the above)."
    )
    kafka_commit_interval_seconds: float = Field(
        default=0.2, ge=0, description="Least time between two offset commits."
    )
    inbox_pace_seconds: float = Field(
        default=0.0,
        ge=0,
        le=5,
        description="Least time between the starts of two inbox batches (0: the next "
        "batch is fetched as soon as one is done).",
    )
    inbox_batch_size: PositiveInt = Field(
        default=500, description="Most records the inbox applies in one transaction."
    )

    http_host: str = Field(default="127.0.0.1", description="Interface the HTTP API binds.")
    http_port: int = Field(default=8000, ge=0, le=65535, description="HTTP port (0 = any).")
    http_keep_alive_seconds: PositiveInt = Field(
        default=75,
        description="How long an idle client connection stays open; keep it above any load"
        " balancer's idle timeout (uvicorn's 5 s default made clients reusing a connection"
        " meet a reset).",
    )
    http_max_body_kb: PositiveInt = Field(
        default=64, description="Largest request body (413 beyond it); JSON requests are small."
    )
    http_max_webhook_body_kb: PositiveInt = Field(
        default=1024, description="Largest body on a provider's webhook paths."
    )
    trusted_proxy_hops: int = Field(
        default=0,
        ge=0,
        le=10,
        description="Proxies in front of the service that append to X-Forwarded-For; the "
        "client address of rate limits is the entry the outermost appended (0: the peer).",
    )
    webhook_rate_limit: RateLimitText = Field(
        default="1200/minute",
        description="Provider webhooks per client address, every replica together (limits "
        "syntax); generous: webhooks are signed, this is against floods.",
    )

    api_docs: bool | None = Field(
        default=None,
        description="Serve /docs and /openapi.json (unset: yes, except in production).",
    )
    log_level: str = Field(default="INFO", description="DEBUG, INFO, WARNING, ERROR.")
    gc_thaw_seconds: float = Field(
        default=900.0,
        gt=0,
        description="A service process freezes what each full garbage collection leaves alive"
        " (the next pass walks only what came since); every this many seconds one pass thaws"
        " it all first (a pass of full length), so garbage kept only by a cycle is collected.",
    )
    log_json: bool = Field(default=True, description="JSON lines (true) or console (false).")

    privacy_master_key: SecretStr | None = Field(
        default=None,
        description="Base64 master key sealing personal data (32+ bytes); unset: the "
        "published development key (never in production).",
    )

    otel_exporter_endpoint: str | None = Field(
        default=None, description="OTLP/HTTP endpoint, e.g. http://otel-collector:4318."
    )

    group_commit_workers: PositiveInt = Field(
        default=1,
        description="HTTP write groups under way at once (one waits on PostgreSQL while the"
        " next runs its use cases); more helps only where PostgreSQL is remote and slow.",
    )
    relay_batch_size: PositiveInt = Field(default=500, description="Events per relay batch.")
    relay_idle_poll_seconds: float = Field(
        default=1.0, gt=0, description="Relay re-check interval when no NOTIFY arrives."
    )
    view_pace_seconds: float = Field(
        default=0.1,
        ge=0,
        le=5,
        description="Rest after each batch of the live slot view (availability's projector):"
        " under load one batch (a day recomputed, one SlotsChanged) does what many wake-ups"
        " would; an event after a quiet spell is still projected at once. 0: no rest. Booking's"
        " board has its own (SLOTLINE_BOARD_PACE_SECONDS).",
    )
    inbox_max_attempts: PositiveInt = Field(
        default=5, description="Handler attempts before a message goes to the DLQ."
    )
    inbox_retry_initial_seconds: float = Field(default=0.05, gt=0, description="First backoff.")

    audit_alert_distinct_items: PositiveInt = Field(
        default=50, description="Distinct items one actor may read within the window unflagged."
    )
    audit_alert_window_seconds: PositiveInt = Field(
        default=300, description="The window of the unusual-access alert."
    )

    graceful_timeout_seconds: float = Field(
        default=20.0, gt=0, description="Time allowed to finish in-flight work on SIGTERM."
    )

    @property
    def schema_name(self) -> str:
        return (self.database_schema or self.service_name).replace("-", "_")

    @property
    def kafka_security(self) -> KafkaSecurity:
        return KafkaSecurity(
            protocol=self.kafka_security_protocol,
            mechanism=self.kafka_sasl_mechanism,
            username=self.kafka_sasl_username,
            password=self.kafka_sasl_password,
            ca_file=self.kafka_ssl_ca_file,
        )

    @property
    def group_id(self) -> str:
        return self.kafka_group_id or f"slotline-{self.service_name}"

    def production_refusals(self) -> list[str]:
        """A service's own reasons not to run in production (beyond published secrets,
        which :func:`slotline.events.production.refuse_unsafe_production` finds)."""
        return []
