"""Outbound webhooks: a tenant's subscriptions and the rules of delivering to them.

A **subscription** is an endpoint (URL) of a tenant, the event types it wants and the
secrets its deliveries are signed with (Standard Webhooks). A **delivery** is one public
event for one subscription; its id — the ``webhook-id`` a receiver de-duplicates by — is
derived from the event id and the subscription id, so it is the same however often the
event is consumed or the delivery is sent.

Rules, all pure:

- **Retries**: a failed attempt is retried with exponential backoff (doubling from
  ``initial``, each wait at most ``longest``) until ``give_up_after`` (3 days) from the
  start of the delivery's window; after that it has failed (:func:`next_attempt_at`).
- **Rotation**: a rotated secret keeps signing (beside the new one) for an overlap, so a
  receiver verifies with either key while it changes over (:func:`rotated`).
- **Pausing**: an endpoint whose attempts have failed ``failures`` times in a row, for
  at least ``failing_for``, is paused: its deliveries wait, none is dropped, and the
  pause is an event (:class:`WebhookEndpoint.Paused`) — never silent (:func:`should_pause`).
- **Addresses**: loopback, private, link-local and other non-public addresses are never
  reached unless the operator allows them (``slotline.events.outbound``, shared with the
  calendar links of availability).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

WEBHOOK_NAMESPACE = uuid5(NAMESPACE_URL, "https://slotline.dev/notifier/webhook")

ACTIVE, PAUSED = "active", "paused"
SCHEDULED, SENDING, DELIVERED, FAILED, CANCELLED = (
    "scheduled",
    "sending",
    "delivered",
    "failed",
    "cancelled",
)


def delivery_id(event_id: str, subscription_id: str) -> str:
    """The stable ``webhook-id`` of one event for one subscription."""
    return f"msg_{uuid5(WEBHOOK_NAMESPACE, f'{subscription_id}|{event_id}').hex}"


# --- secrets ---------------------------------------------------------------------------


@dataclass(frozen=True)
class SigningKey:
    """A subscription secret (``whsec_…``); ``expires_at`` set once it was rotated out."""

    secret: str
    expires_at: datetime | None = None

    def signs_at(self, now: datetime) -> bool:
        return self.expires_at is None or now < self.expires_at


def signing_keys(keys: tuple[SigningKey, ...], now: datetime) -> tuple[SigningKey, ...]:
    """The keys that sign a delivery sent at ``now``: the current one and those rotated
    out less than their overlap ago."""
    return tuple(k for k in keys if k.signs_at(now))


def rotated(
    keys: tuple[SigningKey, ...], new_secret: str, now: datetime, overlap: timedelta
) -> tuple[SigningKey, ...]:
    """``new_secret`` becomes the current key; the keys still signing keep signing until
    ``now + overlap`` (or their own earlier end); expired ones are forgotten."""
    until = now + overlap
    kept = tuple(
        replace(k, expires_at=min(k.expires_at or until, until)) for k in signing_keys(keys, now)
    )
    return (SigningKey(new_secret), *kept)


# --- retries ---------------------------------------------------------------------------


@dataclass(frozen=True)
class RetryPolicy:
    initial: timedelta = timedelta(seconds=5)
    longest: timedelta = timedelta(hours=6)
    give_up_after: timedelta = timedelta(days=3)


def next_attempt_at(
    policy: RetryPolicy, attempts: int, window_start: datetime, now: datetime
) -> datetime | None:
    """When to try again after ``attempts`` failed attempts (exponential backoff), or
    None: the delivery has been failing for the whole window and has failed."""
    if now - window_start >= policy.give_up_after:
        return None
    wait: timedelta = min(policy.initial * (2 ** max(0, min(attempts - 1, 30))), policy.longest)
    return now + wait


# --- endpoint health -------------------------------------------------------------------


@dataclass(frozen=True)
class PausePolicy:
    failures: int = 10
    failing_for: timedelta = timedelta(days=3)


@dataclass(frozen=True)
class Health:
    """Attempts failed in a row and since when (None: the last attempt succeeded)."""

    failures: int = 0
    failing_since: datetime | None = None

    def after(self, succeeded: bool, at: datetime) -> Health:
        if succeeded:
            return Health()
        return Health(self.failures + 1, self.failing_since or at)


def should_pause(policy: PausePolicy, health: Health, now: datetime) -> bool:
    """An endpoint keeps failing: ``failures`` in a row over at least ``failing_for``."""
    return (
        health.failing_since is not None
        and health.failures >= policy.failures
        and now - health.failing_since >= policy.failing_for
    )


# --- the public history of an endpoint -------------------------------------------------


class WebhookEndpoint(Aggregate):
    """A subscription's pauses and resumptions (published on ``notifications.events.v1``)."""

    @staticmethod
    def create_id(tenant_id: str, subscription_id: str) -> UUID:
        return uuid5(WEBHOOK_NAMESPACE, f"endpoint:{tenant_id}:{subscription_id}")

    class Created(Aggregate.Created):
        tenant_id: str
        subscription_id: str

    @event(Created)
    def __init__(self, tenant_id: str, subscription_id: str) -> None:
        self.tenant_id = tenant_id
        self.subscription_id = subscription_id
        self.paused = False

    class Paused(Aggregate.Event):
        tenant_id: str
        subscription_id: str
        reason: str
        failed_attempts: int
        failing_since: datetime

    def pause(self, reason: str, health: Health) -> None:
        assert health.failing_since is not None
        self._paused(
            self.tenant_id, self.subscription_id, reason, health.failures, health.failing_since
        )

    @event(Paused)
    def _paused(
        self,
        tenant_id: str,
        subscription_id: str,
        reason: str,
        failed_attempts: int,
        failing_since: datetime,
    ) -> None:
        self.paused = True

    class Resumed(Aggregate.Event):
        tenant_id: str
        subscription_id: str

    def resume(self) -> None:
        if self.paused:
            self._resumed(self.tenant_id, self.subscription_id)

    @event(Resumed)
    def _resumed(self, tenant_id: str, subscription_id: str) -> None:
        self.paused = False
