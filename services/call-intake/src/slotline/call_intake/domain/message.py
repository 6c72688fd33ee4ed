"""A customer's inbound message (WhatsApp, or a web lead form): once per message id,
then a booking request (a WhatsApp message with a booking intent) or a lead."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from slotline.call_intake.domain.ids import derived_id
from slotline.events.privacy.personal import personal


class InboundMessage(Aggregate):
    @staticmethod
    def create_id(tenant_id: str, message_id: str) -> UUID:
        return derived_id("message", tenant_id, message_id)

    @personal("from_phone", "text", "profile_name", subject="caller_id")
    class Received(Aggregate.Created):
        """Version 1 named no caller: it was stored before personal fields were sealed."""

        class_version = 2

        tenant_id: str
        message_id: str
        from_phone: str
        to_phone: str | None
        text: str | None
        sent_at: datetime
        profile_name: str | None
        booking_intent: bool
        channel: str
        caller_id: str

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["caller_id"] = ""

    @event(Received)
    def __init__(
        self,
        tenant_id: str,
        message_id: str,
        from_phone: str,
        to_phone: str | None,
        text: str | None,
        sent_at: datetime,
        profile_name: str | None,
        booking_intent: bool,
        channel: str = "whatsapp",
        caller_id: str = "",
    ) -> None:
        self.tenant_id = tenant_id
        self.message_id = message_id
        self.from_phone = from_phone
        self.to_phone = to_phone
        self.text = text
        self.sent_at = sent_at
        self.profile_name = profile_name
        self.booking_intent = booking_intent
        self.channel = channel
        self.request: dict[str, Any] | None = None
        self.lead = False

    @property
    def lead_id(self) -> str:
        return str(self.id)

    @property
    def request_id(self) -> str:
        return f"whatsapp-{self.id}"

    class BookingForwarded(Aggregate.Event):
        service_id: str
        location_id: str
        slot_start: datetime
        staff_id: str | None
        call_id: str | None

    @event(BookingForwarded)
    def forward_booking(
        self,
        service_id: str,
        location_id: str,
        slot_start: datetime,
        staff_id: str | None,
        call_id: str | None,
    ) -> None:
        self.request = {
            "service_id": service_id,
            "location_id": location_id,
            "slot_start": slot_start,
            "staff_id": staff_id,
            "call_id": call_id,
        }

    class LeadCaptured(Aggregate.Event):
        pass

    @event(LeadCaptured)
    def capture_lead(self) -> None:
        self.lead = True
