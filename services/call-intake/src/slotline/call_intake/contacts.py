"""Use cases fed by other services and channels: consent, bookings, messages, web leads."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from slotline.call_intake.caller_ids import caller_id, caller_id_of
from slotline.call_intake.domain.call import Call
from slotline.call_intake.domain.callback import CallbackTask, Closure
from slotline.call_intake.domain.caller import Caller
from slotline.call_intake.domain.intent import parse_intent
from slotline.call_intake.domain.message import InboundMessage
from slotline.call_intake.intake_base import IntakeBase
from slotline.call_intake.live import tables
from slotline.events.privacy import erasure_lock
from slotline.events.unit_of_work import UnitOfWork


@dataclass(frozen=True)
class CustomerMessage:
    tenant_id: str
    message_id: str
    from_phone: str
    to_phone: str | None
    text: str | None
    sent_at: datetime
    profile_name: str | None = None
    channel: str = "whatsapp"


class ContactHandling(IntakeBase):
    def consent_changed(
        self,
        tenant_id: str,
        phone: str,
        scope: str,
        granted: bool,
        keyword: str | None,
        work: UnitOfWork,
    ) -> None:
        """The notifier heard STOP or START: remember it (in the unit of work that records
        the message's position)."""
        caller = self._caller(work, tenant_id, phone)
        caller.change_consent(scope, granted, keyword)
        work.add(caller)

    def booking_confirmed(
        self,
        tenant_id: str,
        phone: str,
        booking_id: str,
        source_call_id: str | None,
        work: UnitOfWork,
    ) -> None:
        """A booking from a caller's number closes their open task and credits the call."""
        caller = self._caller(work, tenant_id, phone)
        work.add(caller)
        credited = self._call_credited(work, tenant_id, source_call_id)
        task = work.get(CallbackTask, caller.open_task_id) if caller.open_task_id else None
        if task is not None and task.is_open:
            task.close(Closure.BOOKED, self.clock(), booking_id)
            caller.close_task(task.id)
            if credited is None and task.call_id is not None:
                credited = work.get(Call, task.call_id)
        call_id: UUID | None = None
        if credited is not None and credited.booking_id is None:
            credited.credit_booking(booking_id)
            call_id = credited.id
        caller.note_booking(booking_id, call_id)

    def caller_erased(self, tenant_id: str, phone_pseudonym: str, work: UnitOfWork) -> None:
        """Booking erased a customer: what this service keeps of their number goes in
        the unit of work that records the message's position — the caller's key is
        destroyed (their calls, messages, transcripts and tasks read as erased in every
        replay) and their rows in the call log, queue and timeline are blanked or deleted."""
        caller_key = caller_id_of(tenant_id, phone_pseudonym)
        erasure_lock.erasing(work.cursor, self.schema)  # no read model batch half done
        caller = work.get(Caller, caller_key)
        held: list[UUID] = [caller_key]
        if caller is not None:
            held += tables.erase_phone(
                work.cursor, self.schema, tenant_id, caller.phone, self.read_seal
            )
        self.erase(tenant_id, str(caller_key), held)

    def _call_credited(
        self, work: UnitOfWork, tenant_id: str, source_call_id: str | None
    ) -> Call | None:
        if not source_call_id:
            return None
        try:
            found = work.get(Call, UUID(source_call_id))
        except ValueError:
            return None
        return found if found is not None and found.tenant_id == tenant_id else None

    def customer_message(self, message: CustomerMessage) -> str:
        """A message becomes a booking request (with an intent) or a lead; once per id.

        Returns ``duplicate``, ``booking`` or ``lead``.
        """

        def act(work: UnitOfWork) -> str:
            message_key = InboundMessage.create_id(message.tenant_id, message.message_id)
            if work.get_many([message_key]):
                return "duplicate"
            intent = parse_intent(message.text) if message.channel == "whatsapp" else None
            inbound = InboundMessage(
                tenant_id=message.tenant_id,
                message_id=message.message_id,
                from_phone=message.from_phone,
                to_phone=message.to_phone,
                text=message.text,
                sent_at=message.sent_at,
                profile_name=message.profile_name,
                booking_intent=intent is not None,
                channel=message.channel,
                caller_id=str(caller_id(message.tenant_id, message.from_phone)),
            )
            caller = self._caller(work, message.tenant_id, message.from_phone)
            if message.channel == "whatsapp":
                caller.note_whatsapp(message.message_id, message.sent_at)
            work.add(inbound, caller)
            if intent is not None:
                inbound.forward_booking(
                    service_id=intent.service_id,
                    location_id=intent.location_id,
                    slot_start=intent.slot_start,
                    staff_id=intent.staff_id,
                    call_id=intent.call_id,
                )
            else:
                inbound.capture_lead()
                self._lead_task(work, inbound, caller)
            return "booking" if intent else "lead"

        return self._command(act)

    def _lead_task(self, work: UnitOfWork, inbound: InboundMessage, caller: Caller) -> None:
        if caller.open_task_id is not None:
            open_task = work.get(CallbackTask, caller.open_task_id)
            if open_task is not None and open_task.is_open:
                return
        now = self.clock()
        task = CallbackTask(
            tenant_id=inbound.tenant_id,
            cause=f"message:{inbound.id}",
            customer_phone=inbound.from_phone,
            source="whatsapp" if inbound.channel == "whatsapp" else "web_lead",
            created_at=now,
            deadline=now + self.policy.sla(self.plan_or_none(inbound.tenant_id)),
            lead_id=inbound.lead_id,
            caller_id=str(caller.id),
        )
        caller.open_task(task.id)
        work.add(task)
