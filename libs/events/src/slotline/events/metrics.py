"""Prometheus metrics of the messaging plumbing, registered per service registry."""

from __future__ import annotations

from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

_LAG_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)


@dataclass(frozen=True)
class RelayMetrics:
    published: Counter
    position: Gauge
    lag: Histogram
    unpublishable: Counter

    @classmethod
    def register(cls, registry: CollectorRegistry) -> RelayMetrics:
        return cls(
            published=Counter(
                "slotline_relay_published",
                "Integration events published",
                ["topic"],
                registry=registry,
            ),
            position=Gauge(
                "slotline_relay_position", "Last notification id published", registry=registry
            ),
            lag=Histogram(
                "slotline_relay_lag_seconds",
                "Event stored → broker acknowledged",
                buckets=_LAG_BUCKETS,
                registry=registry,
            ),
            unpublishable=Counter(
                "slotline_relay_unpublishable",
                "Stored events whose mapping failed (sent to the outbox dead-letter topic)",
                registry=registry,
            ),
        )


_BATCH_BUCKETS = (1, 2, 5, 10, 25, 50, 100, 250, 500)


@dataclass(frozen=True)
class InboxMetrics:
    processed: Counter
    duplicates: Counter
    dead_lettered: Counter
    retries: Counter
    batch_size: Histogram
    batch_seconds: Histogram

    @classmethod
    def register(cls, registry: CollectorRegistry) -> InboxMetrics:
        def counter(name: str, doc: str, labels: list[str]) -> Counter:
            return Counter(name, doc, labels, registry=registry)

        return cls(
            processed=counter("slotline_inbox_processed", "Messages applied", ["topic"]),
            duplicates=counter("slotline_inbox_duplicates", "Redeliveries skipped", ["topic"]),
            dead_lettered=counter(
                "slotline_inbox_dead_lettered", "Messages sent to a DLQ", ["topic", "reason"]
            ),
            retries=counter("slotline_inbox_retries", "Handler retries", ["topic"]),
            batch_size=Histogram(
                "slotline_inbox_batch_size",
                "Records applied per batch (one transaction for the group)",
                buckets=_BATCH_BUCKETS,
                registry=registry,
            ),
            batch_seconds=Histogram(
                "slotline_inbox_batch_seconds",
                "Time to apply one batch (decode, handlers, commit; dead letters sent)",
                buckets=_LAG_BUCKETS,
                registry=registry,
            ),
        )
