"""A notification's public history: sent, delivered or failed, per channel.

The queue row says what to send and when; this aggregate is what the outside world
hears about it (published on ``notifications.events.v1`` through the outbox).
"""

from __future__ import annotations

from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

NOTIFICATION_NAMESPACE = uuid5(NAMESPACE_URL, "https://slotline.dev/notifier/notification")


class Notification(Aggregate):
    """One message to one recipient for one purpose, whatever channels it took."""

    @staticmethod
    def create_id(tenant_id: str, notification_id: str) -> UUID:
        return uuid5(NOTIFICATION_NAMESPACE, f"{tenant_id}:{notification_id}")

    class Created(Aggregate.Created):
        tenant_id: str
        notification_id: str
        booking_id: str | None
        template: str | None

    @event(Created)
    def __init__(
        self,
        tenant_id: str,
        notification_id: str,
        booking_id: str | None = None,
        template: str | None = None,
    ) -> None:
        self.tenant_id = tenant_id
        self.notification_id = notification_id
        self.booking_id = booking_id  # what it is about and what it said: told with each
        self.template = template  # outcome, so a timeline can show it
        self.sent_on: list[str] = []
        self.delivered_on: list[str] = []

    def sent(self, channel: str, provider_reference: str | None) -> None:
        self._sent(
            self.tenant_id,
            self.notification_id,
            channel,
            provider_reference,
            self.booking_id,
            self.template,
        )

    class Sent(Aggregate.Event):
        tenant_id: str
        notification_id: str
        channel: str
        provider_reference: str | None
        booking_id: str | None
        template: str | None

    @event(Sent)
    def _sent(
        self,
        tenant_id: str,
        notification_id: str,
        channel: str,
        provider_reference: str | None,
        booking_id: str | None = None,
        template: str | None = None,
    ) -> None:
        self.sent_on.append(channel)

    def report_delivered(self, channel: str) -> None:
        """A provider's delivery report; repeated or unexpected reports change nothing."""
        if channel in self.sent_on and channel not in self.delivered_on:
            self._delivered(self.tenant_id, self.notification_id, channel)

    class Delivered(Aggregate.Event):
        tenant_id: str
        notification_id: str
        channel: str

    @event(Delivered)
    def _delivered(self, tenant_id: str, notification_id: str, channel: str) -> None:
        self.delivered_on.append(channel)

    def failed(self, channel: str, permanent: bool, reason: str, fallback: str | None) -> None:
        """Recorded with the channel tried next, so the failure's consequence is visible."""
        self._failed(
            self.tenant_id,
            self.notification_id,
            channel,
            permanent,
            reason,
            fallback,
            self.booking_id,
            self.template,
        )

    class Failed(Aggregate.Event):
        tenant_id: str
        notification_id: str
        channel: str
        permanent: bool
        reason: str
        fallback: str | None
        booking_id: str | None
        template: str | None

    @event(Failed)
    def _failed(
        self,
        tenant_id: str,
        notification_id: str,
        channel: str,
        permanent: bool,
        reason: str,
        fallback: str | None,
        booking_id: str | None = None,
        template: str | None = None,
    ) -> None:
        pass
