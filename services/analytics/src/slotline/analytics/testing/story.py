"""One clinic's October as the public topics tell it: requests, bookings, calls, callbacks
and its waitlist.

Sequences grow per aggregate and topic, as the producers' relays number them. The KPI
figures this story must give are worked out beside each step.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

from slotline.events.contract.booking import (
    Actor,
    BookingCancelled,
    BookingCompleted,
    BookingConfirmed,
    BookingHeld,
    BookingNoShow,
    BookingRejected,
)
from slotline.events.contract.booking_requests import BookingRequested
from slotline.events.contract.callbacks import (
    AttemptResult,
    CallbackAttemptRecorded,
    CallbackTaskCreated,
)
from slotline.events.contract.calls import CallAnswered, CallMissed, CallReceived, MissReason
from slotline.events.contract.common import Channel, Consents, Contact, TimeSlot
from slotline.events.contract.notifications import TextBackRequested
from slotline.events.contract.waitlist import (
    PassReason,
    SlotFreedBy,
    WaitlistClaimed,
    WaitlistJoined,
    WaitlistLeft,
    WaitlistOffered,
    WaitlistPassed,
)
from slotline.events.envelope import Message

OCTOBER = ("2026-10-01", "2026-10-31")  # the report's from / to (inclusive dates)
CALLER = "+302101234567"
CLINIC = "+302107654321"


def at(day: int, hour: int, minute: int = 0, second: int = 0) -> datetime:
    return datetime(2026, 10, day, hour, minute, second, tzinfo=UTC)


class Story:
    def __init__(self, tenant_id: str) -> None:
        self.tenant_id = tenant_id
        self.messages: list[Message] = []
        self._sequences: Counter[tuple[str, str]] = Counter()

    def tell(self, kind: type[Message], aggregate_id: str, when: datetime, **fields: Any) -> None:
        self._sequences[(kind.TOPIC, aggregate_id)] += 1
        self.messages.append(
            kind(
                tenant_id=self.tenant_id,
                aggregate_id=aggregate_id,
                sequence=self._sequences[(kind.TOPIC, aggregate_id)],
                occurred_at=when,
                **fields,
            )
        )

    def request(self, request_id: str, channel: Channel, when: datetime, start: datetime) -> None:
        self.tell(
            BookingRequested,
            request_id,
            when,
            request_id=request_id,
            channel=channel,
            contact=Contact(name="Ana", phone=CALLER),
            service_id="massage",
            location_id="kifisia",
            slot_start=start,
        )

    def book(
        self,
        request_id: str,
        booking_id: str,
        channel: Channel,
        held: datetime,
        confirmed: datetime,
        start: datetime,
        resource: str = "staff-1",
    ) -> None:
        slot = TimeSlot(start=start, end=start + timedelta(hours=1))
        booking: dict[str, Any] = {
            "booking_id": booking_id,
            "request_id": request_id,
            "reference": "SLT-7K4Q",
            "channel": channel,
            "customer_id": "ana",
            "contact": Contact(name="Ana", phone=CALLER),
            "consents": Consents(),
            "service_id": "massage",
            "location_id": "kifisia",
            "time_zone": "Europe/Athens",
            "slot": slot,
            "resource_ids": [resource],
        }
        self.tell(
            BookingHeld, booking_id, held, **booking, hold_expires_at=held + timedelta(minutes=10)
        )
        self.tell(BookingConfirmed, booking_id, confirmed, **booking, service_name="Massage")

    def missed_call(self, call_id: str, when: datetime, texted_back: bool) -> None:
        numbers = {"from_phone": CALLER, "to_phone": CLINIC}
        self.tell(
            CallReceived, call_id, when, call_id=call_id, provider_call_sid=call_id, **numbers
        )
        self.tell(
            CallMissed,
            call_id,
            when + timedelta(seconds=30),
            call_id=call_id,
            reason=MissReason.NO_ANSWER,
            **numbers,
        )
        if texted_back:
            self.tell(
                TextBackRequested,
                call_id,
                when + timedelta(seconds=31),
                call_id=call_id,
                to_phone=CALLER,
                from_phone=CLINIC,
                business_name="Kifisia clinic",
                booking_url="https://book.example/kifisia",
            )

    def callback(self, task_id: str, call_id: str, created: datetime, attempted: datetime) -> None:
        self.tell(
            CallbackTaskCreated,
            task_id,
            created,
            task_id=task_id,
            call_id=call_id,
            customer_phone=CALLER,
            deadline=created + timedelta(minutes=15),
        )
        self.tell(
            CallbackAttemptRecorded,
            task_id,
            attempted,
            task_id=task_id,
            staff_id="desk-1",
            result=AttemptResult.REACHED,
        )

    def wait(self, entry_id: str, when: datetime, day: int) -> None:
        self.tell(
            WaitlistJoined,
            entry_id,
            when,
            **self.place(entry_id, day),
            customer_id="ana",
            earliest=at(day, 8),
            latest=at(day, 18),
            position=1,
        )

    def offer(
        self,
        entry_id: str,
        booking_id: str,
        when: datetime,
        start: datetime,
        freed_at: datetime,
        freed_booking_id: str | None = None,
    ) -> None:
        """A slot ``freed_at`` (by a cancellation of ``freed_booking_id``) offered."""
        self.tell(
            WaitlistOffered,
            entry_id,
            when,
            **self.place(entry_id, start.day),
            booking_id=booking_id,
            slot=TimeSlot(start=start, end=start + timedelta(hours=1)),
            offer_expires_at=when + timedelta(minutes=15),
            slot_freed_at=freed_at,
            slot_freed_by=SlotFreedBy.CANCELLED,
            freed_booking_id=freed_booking_id,
        )

    def claim(
        self, entry_id: str, booking_id: str, when: datetime, start: datetime, **freeing: Any
    ) -> None:
        self.tell(
            WaitlistClaimed,
            entry_id,
            when,
            **self.place(entry_id, start.day),
            booking_id=booking_id,
            slot=TimeSlot(start=start, end=start + timedelta(hours=1)),
            **freeing,
        )

    @staticmethod
    def place(entry_id: str, day: int) -> dict[str, Any]:
        return {
            "entry_id": entry_id,
            "service_id": "massage",
            "location_id": "kifisia",
            "day": at(day, 0).date(),
        }


def october(tenant_id: str) -> list[Message]:
    """Ids are unique per tenant, as real producers' ids (UUIDs) are everywhere."""

    def i(name: str) -> str:
        return f"{name}.{tenant_id}"

    story = Story(tenant_id)
    # r1 (web): booked in 2 minutes, for the same day, and the customer came.
    story.request(i("r1"), Channel.WEB, at(5, 9), at(5, 15))
    story.book(i("r1"), i("b1"), Channel.WEB, at(5, 9, 0, 30), at(5, 9, 2), at(5, 15))
    story.tell(BookingCompleted, i("b1"), at(5, 16), booking_id=i("b1"))
    # r2 (web): the slot was taken.
    story.request(i("r2"), Channel.WEB, at(5, 10), at(5, 15))
    story.tell(
        BookingRejected,
        i("b2"),
        at(5, 10, 0, 5),
        booking_id=i("b2"),
        request_id=i("r2"),
        reason="slot_taken",
    )
    # r3 (WhatsApp): booked in 10 minutes for the 20th; the customer did not come.
    story.request(i("r3"), Channel.WHATSAPP, at(6, 11), at(20, 10))
    story.book(i("r3"), i("b3"), Channel.WHATSAPP, at(6, 11, 1), at(6, 11, 10), at(20, 10))
    story.tell(BookingNoShow, i("b3"), at(20, 10, 15), booking_id=i("b3"))
    # r4 (phone): booked in a minute for the 21st, cancelled on the 8th at noon.
    story.request(i("r4"), Channel.PHONE, at(7, 12), at(21, 10))
    story.book(i("r4"), i("b4"), Channel.PHONE, at(7, 12, 0, 30), at(7, 12, 1), at(21, 10))
    story.tell(
        BookingCancelled,
        i("b4"),
        at(8, 12),
        booking_id=i("b4"),
        by=Actor.CUSTOMER,
        within_free_window=True,
    )
    # r5 (web): the freed slot is booked again a day later (time to fill: 1 day).
    story.request(i("r5"), Channel.WEB, at(9, 11, 57), at(21, 10))
    story.book(i("r5"), i("b5"), Channel.WEB, at(9, 11, 58), at(9, 12), at(21, 10))
    # Calls: c1 missed and texted back, called back in 5 minutes; c2 answered;
    # c3 missed, no text-back, called back after 30 minutes (SLA breached).
    story.missed_call(i("c1"), at(5, 8), texted_back=True)
    story.callback(i("t1"), i("c1"), at(5, 8, 0, 31), at(5, 8, 5, 30))
    story.tell(
        CallReceived,
        i("c2"),
        at(5, 8, 30),
        call_id=i("c2"),
        from_phone=CALLER,
        to_phone=CLINIC,
        provider_call_sid=i("c2"),
    )
    story.tell(CallAnswered, i("c2"), at(5, 8, 30, 10), call_id=i("c2"))
    story.missed_call(i("c3"), at(6, 9), texted_back=False)
    story.callback(i("t3"), i("c3"), at(6, 9, 0, 31), at(6, 9, 30, 30))
    # Waitlist for the 21st: w1 and w2 join; b4's slot, freed on the 8th (the waitlist saw
    # it free at 12:00:01), is offered to w1, who lets it pass, then to w2, who claims it
    # at 12:20 (time-to-fill: 1,199 s, from the freeing, not the second offer); w3 (for
    # the 22nd) leaves the line.
    freed: dict[str, Any] = {"freed_at": at(8, 12, 0, 1), "freed_booking_id": i("b4")}
    story.wait(i("w1"), at(7, 13), 21)
    story.wait(i("w2"), at(7, 14), 21)
    story.wait(i("w3"), at(7, 15), 22)
    story.offer(i("w1"), i("o1"), at(8, 12, 0, 1), at(21, 10), **freed)
    place = story.place(i("w1"), 21)
    story.tell(
        WaitlistPassed,
        i("w1"),
        at(8, 12, 15, 1),
        **place,
        booking_id=i("o1"),
        reason=PassReason.EXPIRED,
    )
    story.offer(i("w2"), i("o2"), at(8, 12, 15, 2), at(21, 10), **freed)
    story.claim(
        i("w2"),
        i("o2"),
        at(8, 12, 20),
        at(21, 10),
        slot_freed_at=at(8, 12, 0, 1),
        slot_freed_by=SlotFreedBy.CANCELLED,
        freed_booking_id=i("b4"),
    )
    story.tell(WaitlistLeft, i("w3"), at(9, 9), **story.place(i("w3"), 22))
    return story.messages


EXPECTED = {
    "booking_conversion": {
        "all": {"count": 4, "total": 5, "rate": 0.8},
        "phone": {"count": 1, "total": 1, "rate": 1.0},
        "web": {"count": 2, "total": 3, "rate": 0.6667},
        "whatsapp": {"count": 1, "total": 1, "rate": 1.0},
    },
    # r1 120 s, r3 600 s, r4 60 s, r5 180 s
    "time_to_book": {"samples": 4, "median_seconds": 150.0, "p90_seconds": 600.0},
    "no_show_rate": {"count": 1, "total": 2, "rate": 0.5},
    "cancellation_rate": {"count": 1, "total": 4, "rate": 0.25},
    "late_cancellation_rate": {"count": 0, "total": 4, "rate": 0.0},
    "same_day_share": {"count": 1, "total": 4, "rate": 0.25},
    "refilled_cancellations": {"count": 1, "total": 1, "rate": 1.0},
    "time_to_fill": {"samples": 1, "median_seconds": 86400.0, "p90_seconds": 86400.0},
    "missed_call_rate": {"count": 2, "total": 3, "rate": 0.6667},
    "text_back_coverage": {"count": 1, "total": 2, "rate": 0.5},
    # from the miss (30 s after the call) to the attempt: 300 s and 1800 s
    "speed_to_lead": {"samples": 2, "median_seconds": 1050.0, "p90_seconds": 1800.0},
    "callbacks_within_sla": {"count": 1, "total": 2, "rate": 0.5},
    "callbacks_pending": 0,
    # w1, w2, w3 joined; w1 and w2 offered, w2 claimed (1 of 2), w1 passed, w3 left;
    # b4's slot, one freeing offered twice, filled 1,199 s after it was freed
    "waitlist": {
        "joined": 3,
        "offered": 2,
        "claimed": 1,
        "passed": 1,
        "left": 1,
        "refill_rate": {"count": 1, "total": 2, "rate": 0.5},
        "slots_filled": {"count": 1, "total": 1, "rate": 1.0},
        "time_to_fill": {"samples": 1, "median_seconds": 1199.0, "p90_seconds": 1199.0},
    },
}
