"""Which messages of a signed WhatsApp webhook a tenant takes.

One Meta app secret signs the webhooks of every tenant's numbers, so a valid signature
says the body came from Meta, not for whom: the tenant in the URL takes a payload only
when every message in it was sent to one of that tenant's WhatsApp numbers (the
``phone_number_id`` Meta signs into ``value.metadata``). Otherwise the whole payload is
refused — a signed payload for one tenant's number cannot inject messages into another.

A message is *stale* when it was sent longer ago than the service's limit: a signed
payload captured once cannot be replayed indefinitely. Repeats of one ``wamid`` are
dropped anyway (the message's stream exists), so the limit only bounds how long a
payload we never took stays usable.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from slotline.call_intake.whatsapp.payload import Notification


class ForeignNumber(Exception):
    """A message in the payload was sent to a number this tenant does not have."""

    def __init__(self, phone_number_id: str | None) -> None:
        self.phone_number_id = phone_number_id
        super().__init__(
            "a message names no phone_number_id, so it belongs to no tenant"
            if phone_number_id is None
            else f"phone_number_id {phone_number_id} is not a WhatsApp number of this tenant"
        )


def check_addressed_to(notification: Notification, numbers: frozenset[str]) -> None:
    """Raise :class:`ForeignNumber` unless every change carrying messages names one of
    ``numbers``. Changes with statuses only record nothing and are not checked."""
    for entry in notification.entry:
        for change in entry.changes:
            value = change.value
            if value.messages and value.metadata.phone_number_id not in numbers:
                raise ForeignNumber(value.metadata.phone_number_id)


def is_stale(sent_at: datetime, now: datetime, max_age: timedelta) -> bool:
    """Sent more than ``max_age`` before ``now`` (a message from the future is not stale:
    Meta's clock may be a little ahead of ours)."""
    return now - sent_at > max_age
