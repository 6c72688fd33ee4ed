"""The answer to a channel's request that changed no booking.

Every request on ``booking.requests.v1`` gets an answer on ``booking.events.v1``. Most
are answered by the booking they create or change (``BookingHeld``, ``BookingRejected``,
``BookingCancelled`` …). The rest are answered here: a request refused before it could
touch a booking (an unknown booking, a change its state does not allow, an idempotency
key reused for another request, a contact that is not one), and a request repeated
after it was carried out, whose answer points at the booking it made.
"""

from __future__ import annotations

from enum import StrEnum
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

ANSWERS_NAMESPACE = uuid5(NAMESPACE_URL, "https://slotline.dev/booking/request-answers")


class Answer(StrEnum):
    REFUSED = "refused"
    REPEATED = "repeated"


class RequestAnswer(Aggregate):
    """One per message (its event id): a message delivered again is answered once."""

    @staticmethod
    def create_id(tenant_id: str, message_id: str) -> UUID:
        return uuid5(ANSWERS_NAMESPACE, f"{tenant_id}:{message_id}")

    class Given(Aggregate.Created):
        """A request was answered without changing a booking."""

        tenant_id: str
        message_id: str
        request_id: str
        booking_id: str
        request_type: str
        answer: str
        reason: str
        detail: str

    @event(Given)
    def __init__(
        self,
        tenant_id: str,
        message_id: str,
        request_id: str,
        booking_id: str,
        request_type: str,
        answer: str,
        reason: str,
        detail: str,
    ) -> None:
        self.tenant_id = tenant_id
        self.message_id = message_id
        self.request_id = request_id
        self.booking_id = booking_id
        self.request_type = request_type
        self.answer = Answer(answer)
        self.reason = reason
        self.detail = detail
