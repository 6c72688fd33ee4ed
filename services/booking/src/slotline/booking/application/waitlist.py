"""The waitlist's use cases: a customer joins the line for a service on a day; a slot the
live view shows free is offered to the first waiting customer it suits, as a booking
that holds it for the offer window (the saga's own hold path, so availability never
double-books it); the customer claims it through the booking's manage link, or the offer
passes on once it runs out and the slot is seen free again.

Each use case acts on the line and the offer's booking in one unit of work, so a crash
loses nothing and a redelivered message is recognised by the inbox."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING
from uuid import UUID
from zoneinfo import ZoneInfo

from slotline.booking.domain.booking import (
    HOLD_RAN_OUT,
    OFFER_DECLINED,
    Booking,
    BookingStatus,
)
from slotline.booking.domain.contact import ContactDetails
from slotline.booking.domain.customer import Customer
from slotline.booking.domain.reference import Claim, new_reference
from slotline.booking.domain.request import BookingRequest, Intake
from slotline.booking.domain.waitlist import WaitlistLine
from slotline.booking.domain.waitlist_values import FreedBy, Match, NotInLine
from slotline.booking.zones import country_of_zone
from slotline.events.contract.availability import SlotsChanged
from slotline.events.contract.common import SlotStatus
from slotline.events.unit_of_work import UnitOfWork

if TYPE_CHECKING:
    from slotline.booking.application import BookingApplication

__all__ = ["JoinRequest", "Joined", "NotInLine", "Waitlist", "WaitlistRefused"]


class WaitlistRefused(ValueError):
    """The line cannot be joined as asked (unknown service, a day gone by, payment due)."""


@dataclass(frozen=True, kw_only=True)
class JoinRequest:
    tenant_id: str
    service_id: str
    location_id: str
    day: date
    earliest: time | None
    latest: time | None
    staff_id: str | None
    name: str
    phone: str | None
    email: str | None
    language: str
    consents: dict[str, bool]


@dataclass(frozen=True)
class Joined:
    line_id: UUID
    entry_id: str
    position: int | None
    customer_id: UUID


CLAIMED = frozenset(
    {BookingStatus.AWAITING_PAYMENT, BookingStatus.CONFIRMING, BookingStatus.CONFIRMED}
)


class Waitlist:
    """The waitlist's use cases on the booking application's store."""

    def __init__(self, app: BookingApplication, offer_window: timedelta) -> None:
        self.app = app
        self.offer_window = offer_window

    # --- joining and leaving -----------------------------------------------------------

    def join(self, asked: JoinRequest, default_region: str | None = None) -> Joined:
        app = self.app
        terms = app.catalog.service(asked.tenant_id, asked.service_id)
        if terms is None or terms.location_id != asked.location_id:
            raise WaitlistRefused(
                f"service {asked.service_id} is not offered at location {asked.location_id}"
            )
        if app.policy_for(asked.tenant_id, terms.price_tier).amount_due() is not None:
            raise WaitlistRefused(
                "this service asks for a payment up front; its waitlist is not open"
            )
        zone = ZoneInfo(terms.time_zone)
        if asked.day < app.clock().astimezone(zone).date():
            raise WaitlistRefused(f"day {asked.day} has gone by")
        earliest = datetime.combine(asked.day, asked.earliest or time.min, zone)
        latest = datetime.combine(asked.day, asked.latest or time.max, zone)
        if latest < earliest:
            raise WaitlistRefused("latest is before earliest")
        contact = ContactDetails.normalised(
            asked.name,
            asked.phone,
            asked.email,
            asked.language,
            default_region=country_of_zone(terms.time_zone) or default_region,
        )
        line_id = WaitlistLine.create_id(
            asked.tenant_id, asked.service_id, asked.location_id, asked.day
        )

        def act(work: UnitOfWork) -> Joined:
            customer = app.customer_met(asked.tenant_id, contact)
            work.add(customer)
            line = work.get(WaitlistLine, line_id)
            if line is None:
                line = WaitlistLine(
                    tenant_id=asked.tenant_id,
                    service_id=asked.service_id,
                    location_id=asked.location_id,
                    day=asked.day.isoformat(),
                )
                work.add(line)
            entry_id = line.join(
                str(WaitlistLine.entry_id_for(line.id, customer.id, line.joined + 1)),
                str(customer.id),
                earliest.astimezone(UTC),
                latest.astimezone(UTC),
                asked.staff_id,
                dict(asked.consents),
                app.clock(),
            )
            self._offer_free_slots(line, work)  # a start already free goes to them now
            return Joined(line.id, entry_id, line.position(entry_id), customer.id)

        return app.command(act)

    def line(self, tenant_id: str, line_id: UUID) -> WaitlistLine:
        found = self.app.get_many([line_id]).get(line_id)
        if not isinstance(found, WaitlistLine) or found.tenant_id != tenant_id:
            raise NotInLine(f"no waitlist {line_id}")
        return found

    def leave(self, tenant_id: str, line_id: UUID, entry_id: str) -> WaitlistLine:
        """The customer leaves; an offer they hold is given back and passes on."""

        def act(work: UnitOfWork) -> WaitlistLine:
            line = self.line(tenant_id, line_id)
            offer = line.offer_of(entry_id)
            line.leave(entry_id)
            if offer is not None:
                booking = work.get(Booking, UUID(offer.booking_id))
                if booking is not None:
                    booking.decline_offer()
            return line

        return self.app.command(act)

    # --- freed slots and offers ------------------------------------------------------------

    def slot_freed(
        self, booking: Booking, start: datetime, at: datetime, by: FreedBy, work: UnitOfWork
    ) -> None:
        """Availability gave back ``start`` of ``booking``'s service (``by``: its
        allocation was cancelled or moved away, its hold lapsed or was released): the
        line of that day (if anyone waits) offers it to the first waiting customer it
        suits."""
        if not booking.resource_ids:
            return  # it never held anything
        line = work.get(WaitlistLine, self.line_id_of(booking, start))
        if line is None:
            return
        line.freed(start, at, by, str(booking.id))
        self._offer_free_slots(line, work)

    def giving_back(self, booking: Booking, at: datetime, by: FreedBy, work: UnitOfWork) -> None:
        """``booking`` gives its start back (cancelled): its line, if anyone waits, keeps
        the cause until availability says the start is free."""
        if not booking.resource_ids:
            return
        line = work.get(WaitlistLine, self.line_id_of(booking, booking.slot_start))
        if line is not None:
            line.giving_back(booking.slot_start, at, by, str(booking.id))

    def waits_on(self, view: SlotsChanged, work: UnitOfWork) -> bool:
        """Whether the view's day has a line (its slots matter only then)."""
        return self._line_of(view, work) is not None

    def slots_shown(self, view: SlotsChanged, work: UnitOfWork) -> None:
        """Availability's live view of one service's day changed (``SlotsChanged``): a
        start it shows bookable that someone on that day's line waits for is offered —
        how a new schedule, a new resource or a calendar block gone refills the line,
        where no booking gave a slot back."""
        line = self._line_of(view, work)
        if line is None:
            return
        bookable = [s.slot.start for s in view.slots if s.status is not SlotStatus.BOOKED]
        line.shown_free(bookable, view.occurred_at)
        self._offer_free_slots(line, work)

    @staticmethod
    def _line_of(view: SlotsChanged, work: UnitOfWork) -> WaitlistLine | None:
        line_id = WaitlistLine.create_id(
            view.tenant_id, view.service_id, view.location_id, view.day
        )
        return work.get(WaitlistLine, line_id)

    @staticmethod
    def line_id_of(booking: Booking, start: datetime) -> UUID:
        terms = booking.terms
        day = start.astimezone(ZoneInfo(terms.time_zone)).date()
        return WaitlistLine.create_id(booking.tenant_id, terms.service_id, terms.location_id, day)

    def _offer_free_slots(self, line: WaitlistLine, work: UnitOfWork) -> None:
        for match in line.matches():
            booking = self._offer_booking(line, match, work)
            if booking is not None:
                line.make_offer(match, str(booking.id))

    def _offer_booking(self, line: WaitlistLine, match: Match, work: UnitOfWork) -> Booking | None:
        """A booking for the entry's customer that asks for a hold on the start, for the
        offer window (and a margin, so a claim made in time is confirmed in time)."""
        app = self.app
        tenant = line.tenant_id
        terms = app.catalog.service(tenant, line.service_id)
        customer = work.get(Customer, UUID(match.customer_id))
        if terms is None or customer is None:
            return None
        entry = line.entry(match.entry_id)
        number = sum(1 for o in entry["tried"]) + 1
        request_id = f"waitlist:{match.entry_id}:{match.start.isoformat()}:{number}"
        reference = new_reference(app.choose)
        contact = customer.contact
        hold_ttl = self.offer_window + app.timeouts.answer_within  # the last line
        booking = Booking.take(
            BookingRequest(
                tenant_id=tenant,
                request_id=request_id,
                idempotency_key=None,
                fingerprint=request_id,
                channel="web",
                contact=contact.to_data(),
                consents=dict(entry["consents"]),
                slot_start=match.start,
                preferred_staff_id=match.staff_id,
            ),
            Intake(
                reference=reference,
                customer_id=customer.id,
                terms=dict(terms.__dict__),
                policy=app.policy_for(tenant, terms.price_tier).to_data(),
                hold_ttl_seconds=int(hold_ttl.total_seconds()),
                requested_at=app.clock(),
                waitlist={
                    "line_id": str(line.id),
                    "entry_id": match.entry_id,
                    "offer_seconds": int(self.offer_window.total_seconds()),
                },
            ),
        )
        if work.get(Booking, booking.id) is not None:
            return None  # made already (a redone unit of work): never a second hold
        work.add(booking, Claim(tenant_id=tenant, reference=reference, booking_id=booking.id))
        return booking

    def claim(self, tenant_id: str, booking_id: UUID) -> Booking:
        """The customer takes the offer: the booking asks for confirmation."""

        def act(work: UnitOfWork) -> Booking:
            booking = self.app.booking(tenant_id, booking_id)
            booking.claim(self.app.clock())
            self.follow(booking, work)
            return booking

        return self.app.command(act)

    def follow(self, booking: Booking, work: UnitOfWork) -> None:
        """Tell the booking's line (when it is an offer) what became of it: sent, claimed,
        passed, or lost to someone faster; then offer what is free to the next."""
        if booking.waitlist is None:
            return
        line = work.get(WaitlistLine, UUID(booking.waitlist["line_id"]))
        if line is None or line.offer(str(booking.id)) is None:
            return
        key = str(booking.id)
        status = booking.status
        if status is BookingStatus.OFFERED:
            assert booking.offer_until is not None
            line.offer_sent(key, booking.slot_end, booking.offer_until)
        elif status in CLAIMED:
            line.claimed(key)
        elif status is BookingStatus.EXPIRED:
            # the saga's own deadline asked for the release: the hold is still there;
            # availability's expiry (the last line) has freed it already
            still_held = booking.status_reason != HOLD_RAN_OUT
            declined = booking.status_reason == OFFER_DECLINED
            line.passed(key, "declined" if declined else "expired", still_held)
            self._offer_free_slots(line, work)
        elif status is BookingStatus.REJECTED:
            line.lost(key)
