"""Use cases of outbound webhooks: a tenant's subscriptions, the fan-out of public events
into deliveries, what became of each attempt, and the delivery log.

- **Fan-out** (:meth:`WebhookSubscriptions.webhook_event`): a consumed public event
  becomes one delivery per subscription of its tenant that wants its type, in the unit
  of work that records the event's inbox position (with the rest of its batch) — a
  redelivered event makes nothing twice, and the delivery id (event id + subscription
  id) is stable anyway.
- **Attempts** (:meth:`WebhookSubscriptions.record_webhook_attempt`): a 2xx delivers;
  anything else is retried with backoff for 3 days, then the delivery has failed. An
  endpoint that keeps failing is paused — with :class:`WebhookEndpoint.Paused` on
  Kafka and an e-mail to the subscription's owner contact, in the same transaction:
  never silently. Its deliveries wait until it is resumed.
- **Management**: subscribe, change, rotate the secret (the old key keeps signing for
  an overlap), resume, unsubscribe; the log of deliveries and attempts; redelivery.
"""

from __future__ import annotations

import base64
import secrets
import uuid
from collections.abc import Sequence
from dataclasses import replace
from datetime import timedelta
from typing import Any

from slotline.events.envelope import Message
from slotline.events.unit_of_work import UnitOfWork as Work
from slotline.notifier.application.core import (
    WEBHOOK_EVENT_TYPES,
    WEBHOOK_MESSAGES,
    NotifierCore,
    WebhookConfig,
)
from slotline.notifier.domain.outgoing import EMAIL, QueuedMessage
from slotline.notifier.domain.webhooks import (
    ACTIVE,
    CANCELLED,
    DELIVERED,
    FAILED,
    PAUSED,
    SCHEDULED,
    SENDING,
    Health,
    SigningKey,
    WebhookEndpoint,
    delivery_id,
    next_attempt_at,
    rotated,
    should_pause,
)
from slotline.notifier.persistence import webhooks as rows
from slotline.notifier.persistence.unit_of_work import UnitOfWork, joined, reading, unit_of_work


class WebhookNotFound(LookupError):
    """No such subscription or delivery of the caller's tenant."""


class WebhookConflict(RuntimeError):
    """The request does not fit the subscription's or delivery's state."""


def new_secret() -> str:
    """A Standard Webhooks secret: ``whsec_`` + base64 of 32 random bytes."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


class WebhookSubscriptions(NotifierCore):
    """Outbound webhooks' use cases (see the module doc)."""

    @property
    def webhooks(self) -> WebhookConfig:
        return self.config.webhooks

    def _wake_webhooks(self) -> None:
        """Tell the webhook sender that a delivery may be due now."""
        for listener in self.webhook_listeners:
            listener()

    # --- subscriptions -----------------------------------------------------------------

    def _event_types(self, event_types: Sequence[str]) -> tuple[str, ...]:
        unknown = sorted(set(event_types) - set(WEBHOOK_EVENT_TYPES))
        if unknown:
            raise ValueError(
                f"unknown event type(s) {', '.join(unknown)}; known: "
                + ", ".join(sorted(WEBHOOK_EVENT_TYPES))
            )
        return tuple(dict.fromkeys(event_types))

    def subscribe(
        self,
        tenant_id: str,
        url: str,
        event_types: Sequence[str],
        description: str = "",
        notify_email: str | None = None,
    ) -> tuple[rows.Subscription, str]:
        """A new subscription and its first secret (shown this once)."""
        self.webhooks.check_url(url)
        secret = new_secret()
        subscription = rows.Subscription(
            tenant_id=tenant_id,
            subscription_id=f"whs_{uuid.uuid4().hex}",
            url=url,
            event_types=self._event_types(event_types),
            description=description,
            notify_email=notify_email,
            keys=(SigningKey(secret),),
            state=ACTIVE,
            paused_reason=None,
            health=Health(),
            created_at=self.webhooks.clock(),
        )
        with unit_of_work(self) as work:
            rows.insert_subscription(work, subscription, self.webhooks.box)
        return subscription, secret

    def _subscription(
        self, work: UnitOfWork, tenant_id: str, subscription_id: str
    ) -> rows.Subscription:
        found = rows.subscription(work, tenant_id, subscription_id, self.webhooks.box, lock=True)
        if found is None:
            raise WebhookNotFound(f"no webhook subscription {subscription_id}")
        return found

    def change_subscription(
        self, tenant_id: str, subscription_id: str, changes: dict[str, Any]
    ) -> rows.Subscription:
        if "url" in changes:
            self.webhooks.check_url(changes["url"])
        if "event_types" in changes:
            changes["event_types"] = self._event_types(changes["event_types"])
        with unit_of_work(self) as work:
            changed = replace(self._subscription(work, tenant_id, subscription_id), **changes)
            rows.update_subscription(work, changed, self.webhooks.box)
        return changed

    def rotate_secret(self, tenant_id: str, subscription_id: str) -> tuple[rows.Subscription, str]:
        """A new secret; the old ones keep signing (beside it) for the overlap."""
        secret = new_secret()
        now = self.webhooks.clock()
        with unit_of_work(self) as work:
            current = self._subscription(work, tenant_id, subscription_id)
            changed = replace(
                current, keys=rotated(current.keys, secret, now, self.webhooks.secret_overlap)
            )
            rows.update_subscription(work, changed, self.webhooks.box)
        return changed, secret

    def resume(self, tenant_id: str, subscription_id: str) -> rows.Subscription:
        """A paused subscription is active again; its waiting deliveries are due now."""
        now = self.webhooks.clock()
        with unit_of_work(self) as work:
            current = self._subscription(work, tenant_id, subscription_id)
            if current.state != PAUSED:
                return current
            changed = replace(current, state=ACTIVE, paused_reason=None, health=Health())
            rows.update_subscription(work, changed, self.webhooks.box)
            rows.release_waiting(work, tenant_id, subscription_id, now)
            self._endpoint(work, tenant_id, subscription_id).resume()
        self._wake_webhooks()
        return changed

    def unsubscribe(self, tenant_id: str, subscription_id: str) -> None:
        with unit_of_work(self) as work:
            if not rows.delete_subscription(
                work, tenant_id, subscription_id, self.webhooks.clock()
            ):
                raise WebhookNotFound(f"no webhook subscription {subscription_id}")

    def webhook_subscriptions(self, tenant_id: str) -> list[rows.Subscription]:
        with reading(self) as work:
            return rows.subscriptions_of(work, tenant_id, self.webhooks.box)

    def webhook_subscription(self, tenant_id: str, subscription_id: str) -> rows.Subscription:
        with reading(self) as work:
            found = rows.subscription(work, tenant_id, subscription_id, self.webhooks.box)
        if found is None:
            raise WebhookNotFound(f"no webhook subscription {subscription_id}")
        return found

    # --- the log and redelivery --------------------------------------------------------

    def webhook_deliveries(
        self, tenant_id: str, subscription_id: str, state: str | None, limit: int
    ) -> list[dict[str, Any]]:
        self.webhook_subscription(tenant_id, subscription_id)
        with reading(self) as work:
            return rows.deliveries_of(work, tenant_id, subscription_id, state, limit)

    def webhook_delivery(self, tenant_id: str, delivery_id: str) -> dict[str, Any]:
        with reading(self) as work:
            found = rows.delivery(work, tenant_id, delivery_id)
            if found is None:
                raise WebhookNotFound(f"no webhook delivery {delivery_id}")
            found["attempt_log"] = rows.attempts_of(work, delivery_id)
        return found

    def redeliver(self, tenant_id: str, delivery_id: str) -> dict[str, Any]:
        """Send a delivery again now, with the same ``webhook-id``: a finished one gets a
        new 3-day window, a waiting one is tried at once."""
        now = self.webhooks.clock()
        with unit_of_work(self) as work:
            found = rows.delivery(work, tenant_id, delivery_id, lock=True)
            if found is None:
                raise WebhookNotFound(f"no webhook delivery {delivery_id}")
            subscription = rows.subscription(
                work, tenant_id, found["subscription_id"], self.webhooks.box
            )
            if subscription is None or found["state"] == CANCELLED:
                raise WebhookConflict("its subscription was deleted")
            if subscription.state == PAUSED:
                raise WebhookConflict("its subscription is paused: resume it first")
            if found["state"] == SENDING:
                raise WebhookConflict("it is being sent right now")
            rows.schedule_now(work, delivery_id, now, new_window=found["state"] != SCHEDULED)
        self._wake_webhooks()
        return self.webhook_delivery(tenant_id, delivery_id)

    # --- fan-out from the public topics (an inbox effect) -----------------------------

    def webhook_event(self, message: Message, within: Work) -> None:
        """One delivery per subscription that wants ``message``, in the unit of work the
        message is applied in (its position is the message's): made once — and a delivery
        made before (same event and subscription id) is not made again."""
        if type(message) not in WEBHOOK_MESSAGES or self.memory_rows is not None:
            return  # (the in-memory store of use-case tests has no subscriptions)
        work = joined(self, within)
        tenant_id, event_type = message.tenant_id, message.event_type
        wanted = within.memo(
            ("webhook subscriptions", tenant_id, event_type),
            lambda: rows.wanting(work, tenant_id, event_type),
        )
        if not wanted:
            return
        ids = {s: delivery_id(str(message.event_id), s) for s in wanted}
        made = rows.fan_out(
            work,
            tenant_id,
            event_type,
            str(message.event_id),
            message.model_dump_json(),
            self.webhooks.clock(),
            ids,
            self.webhooks.box,
        )
        if made:
            within.after_commit(self._wake_webhooks)

    # --- the sender's side --------------------------------------------------------------

    def claim_webhooks(self, limit: int) -> list[rows.Claimed]:
        with unit_of_work(self) as work:
            return rows.claim_due(work, self.webhooks.clock(), limit, self.webhooks.box)

    def reclaim_webhooks(self, older_than: timedelta) -> int:
        now = self.webhooks.clock()
        with unit_of_work(self) as work:
            return rows.reclaim_stale(work, now - older_than, now)

    def forget_webhook_log(self, limit: int = 1000) -> int:
        """Delete up to ``limit`` deliveries that ended longer ago than the log is kept."""
        with unit_of_work(self) as work:
            return rows.forget_finished(work, self.webhooks.clock() - self.webhooks.log_kept, limit)

    def record_webhook_attempt(self, outcome: rows.AttemptOutcome) -> str:
        """The attempt in the log, the delivery's next state, the endpoint's health (and
        its pause, told on Kafka and to its owner contact); the delivery's new state."""
        claimed = outcome.delivery
        told = False
        with unit_of_work(self) as work:
            rows.log_attempts(work, [outcome])
            if outcome.succeeded:
                state, due = DELIVERED, None
            else:
                due = next_attempt_at(
                    self.webhooks.retry, claimed.attempt, claimed.window_start, outcome.at
                )
                state = FAILED if due is None else SCHEDULED
            rows.finish(work, claimed.delivery_id, state, due, outcome)
            subscription = rows.subscription(
                work, claimed.tenant_id, claimed.subscription_id, self.webhooks.box, lock=True
            )
            if subscription is not None:
                told = self._after_attempt(work, subscription, outcome)
        if told:
            self._wake()  # the notice is queued (and committed): the dispatcher sends it
        return state

    def _after_attempt(
        self, work: UnitOfWork, subscription: rows.Subscription, outcome: rows.AttemptOutcome
    ) -> bool:
        """The endpoint's health after an attempt; True when a pause notice was queued."""
        health = subscription.health.after(outcome.succeeded, outcome.at)
        changed = replace(subscription, health=health)
        if subscription.active and should_pause(self.webhooks.pause, health, outcome.at):
            reason = (
                f"{health.failures} attempts failed in a row since "
                f"{health.failing_since:%Y-%m-%d %H:%M} UTC; last: "
                + (outcome.error or f"HTTP {outcome.status}")
            )[:500]
            changed = replace(changed, state=PAUSED, paused_reason=reason)
            endpoint = self._endpoint(work, subscription.tenant_id, subscription.subscription_id)
            endpoint.pause(reason, health)
            told = self._tell_owner(work, changed, reason)
        else:
            told = False
        if changed != subscription:
            rows.update_subscription(work, changed, self.webhooks.box)
        return told

    def _endpoint(self, work: UnitOfWork, tenant_id: str, subscription_id: str) -> WebhookEndpoint:
        return self._load(
            WebhookEndpoint,
            WebhookEndpoint.create_id(tenant_id, subscription_id),
            work,
            tenant_id=tenant_id,
            subscription_id=subscription_id,
        )

    def _tell_owner(self, work: UnitOfWork, subscription: rows.Subscription, reason: str) -> bool:
        """An e-mail to the subscription's owner contact (queued with the pause)."""
        if not subscription.notify_email:
            return False
        prefs = self.preferences(work, [subscription.tenant_id])[subscription.tenant_id]
        key = f"webhook-paused:{subscription.subscription_id}:{uuid.uuid4().hex[:8]}"
        self._enqueue(
            work,
            [
                QueuedMessage(
                    tenant_id=subscription.tenant_id,
                    key=key,
                    notification_id=key,
                    template="webhook_paused",
                    language=prefs.language,
                    channels=(EMAIL,),
                    due_at=self.clock(),
                    to_email=subscription.notify_email,
                    urgent=True,
                    variables={
                        "business_name": prefs.business_name,
                        "subscription_id": subscription.subscription_id,
                        "url": subscription.url,
                        "reason": reason,
                    },
                )
            ],
        )
        return True
