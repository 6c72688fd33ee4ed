"""The chaos run's confirmations: every confirmed booking's customer is sent its
confirmation once — none lost, none doubled.

A ``BookingConfirmed`` makes the notifier queue one message per channel the customer can
be reached on (``booking_channels``: e-mail if given; SMS, or WhatsApp then SMS, with
transactional consent). In the chaos stack the only one is SMS, through the
Twilio-compatible simulator served by the chaos process; each message carries the
idempotency key ``<booking_id>:confirmed:<channel>/<channel>``, which ties it to its
booking (the partner's requests share one phone number, so the number cannot).

The rules are the text-backs', counted by the same ``chaos_sends.SentOnce``: a send cut
off by a ``kill -9`` is never sent again and is reported failed ("interrupted"); such a
booking, with no message and that report, is counted in
``chaos_confirmations_interrupted``, not as a violation. A booking with two confirmation
messages or more, or with none and no interrupted report, is one; so is a confirmation
of a booking never confirmed.

A booking cancelled (some class participants cancel at once) may have had its
confirmation skipped: a cancellation skips whatever of the booking is still waiting to
be sent, the confirmation too (the customer gets the cancellation notice instead). Such
a booking may be sent one confirmation or none, never two; those sent none are counted
in ``chaos_confirmations_skipped_by_a_cancel``.
"""

from __future__ import annotations

from typing import Any

from chaos_sends import SentOnce

from slotline.events.contract.booking import BookingCancelled, BookingConfirmed
from slotline.events.envelope import Message
from slotline.notifier.simulator import ProviderSimulator

SUFFIX = ":confirmed"


def reachable_confirmed(booking_events: list[Message]) -> set[str]:
    """Booking ids confirmed with a phone and transactional consent (so one SMS due)."""
    return {
        e.booking_id
        for e in booking_events
        if isinstance(e, BookingConfirmed) and e.contact.phone and e.consents.transactional
    }


def booking_of(message: dict[str, Any]) -> str | None:
    """The booking a confirmation message is for, by its idempotency key."""
    booking_id, _, rest = str(message.get("key") or "").partition(":")
    return booking_id if rest.startswith("confirmed:") else None


def confirmations_sent(provider: ProviderSimulator, booking_events: list[Message]) -> SentOnce:
    """One confirmation per reachable confirmed booking (its notification id is
    ``<booking_id>:confirmed``)."""
    confirmed = reachable_confirmed(booking_events)
    cancelled = {e.booking_id for e in booking_events if isinstance(e, BookingCancelled)}
    return SentOnce(
        provider,
        confirmed - cancelled,
        booking_of,
        suffix=SUFFIX,
        noun="bookings",
        what="confirmation",
        optional=confirmed & cancelled,
    )
