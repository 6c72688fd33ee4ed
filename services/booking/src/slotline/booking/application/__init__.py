"""The booking service's use cases: take requests, run each booking's saga, apply the
policy to changes. Every use case acts in one unit of work over the aggregates it
touches: its own (retried on version conflicts) or, from Kafka, the batch's, which
commits many messages' changes and inbox positions together."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar, TypeVar
from uuid import UUID

from slotline.booking.application import intake
from slotline.booking.application.directory import (
    CustomerDirectory,
    MemoryDirectory,
    SqlDirectory,
)
from slotline.booking.application.waitlist import Waitlist
from slotline.booking.catalog import Catalog, MemoryCatalog, ServiceCatalog
from slotline.booking.domain.booking import Actor, Booking
from slotline.booking.domain.contact import ContactDetails
from slotline.booking.domain.customer import Customer
from slotline.booking.domain.policy import Policy, PolicyTier
from slotline.booking.domain.reference import Claim, new_reference, normalise_reference
from slotline.booking.domain.request import Intake
from slotline.booking.domain.waitlist_values import FreedBy
from slotline.booking.live import board
from slotline.events.contract.booking_requests import BookingRequested
from slotline.events.recorder import SlotlineRecorder
from slotline.events.store import ServiceApplication
from slotline.events.unit_of_work import UnitOfWork

T = TypeVar("T")


class UnknownBooking(LookupError):
    """No booking with that id or reference in the caller's tenant."""


class IdempotencyKeyReused(ValueError):
    """The same idempotency key came with a different request."""


@dataclass(frozen=True)
class SagaTimeouts:
    """How long the saga waits before giving up on its own (well inside the hold TTL)."""

    answer_within: timedelta = timedelta(seconds=60)
    pay_within: timedelta = timedelta(minutes=8)


class BookingApplication(ServiceApplication):
    """Owns bookings, customers, policies and reference claims."""

    name = "booking"
    env: ClassVar[dict[str, str]] = dict(ServiceApplication.env)

    def __init__(
        self,
        env: dict[str, str] | None = None,
        *,
        clock: Callable[[], datetime] | None = None,
        hold_ttl: timedelta = timedelta(minutes=10),
        timeouts: SagaTimeouts | None = None,
        choose: Callable[[str], str] = secrets.choice,
        offer_window: timedelta = timedelta(minutes=15),
    ) -> None:
        super().__init__(env=env)
        self.clock = clock or (lambda: datetime.now(UTC))
        self.hold_ttl = hold_ttl
        self.timeouts = timeouts or SagaTimeouts()
        self.choose = choose
        self.waitlist = Waitlist(self, offer_window)
        self.catalog: ServiceCatalog
        if isinstance(self.recorder, SlotlineRecorder):
            catalog = Catalog(self.recorder)
            catalog.create_tables()
            with self.recorder.transaction(commit=True) as cursor:
                board.create_tables(cursor, self.schema)  # the board's projection writes it
                board.seal_legacy_rows(cursor, self.schema, self.read_seal)
            self.catalog = catalog
            self.directory: CustomerDirectory = SqlDirectory(self.recorder.datastore, self.schema)
        else:  # the in-memory store: use cases tested without PostgreSQL
            self.catalog = MemoryCatalog()
            self.directory = MemoryDirectory()

    # --- policies --------------------------------------------------------------------

    def define_policy(self, tenant_id: str, tier: str, policy: Policy) -> PolicyTier:
        def attempt(work: UnitOfWork) -> PolicyTier:
            existing = self._find(PolicyTier, PolicyTier.create_id(tenant_id, tier))
            if existing is None:
                existing = PolicyTier(tenant_id=tenant_id, tier=tier, policy=policy.to_data())
                work.add(existing)
            elif existing.policy_data != policy.to_data():
                existing.redefine(policy.to_data())
            return existing

        return self.command(attempt)

    def policy_for(self, tenant_id: str, tier: str) -> Policy:
        found = self._find(PolicyTier, PolicyTier.create_id(tenant_id, tier))
        return found.policy if found is not None else Policy()

    def missing_payment(
        self, tenant_id: str, service_id: str, payment_token: str | None
    ) -> str | None:
        """Why booking ``service_id`` without ``payment_token`` cannot go ahead, or None
        (an unknown service is refused later, with the rest of the request)."""
        terms = self.catalog.service(tenant_id, service_id)
        if terms is None:
            return None
        return self.policy_for(tenant_id, terms.price_tier).missing_payment(payment_token)

    # --- requests --------------------------------------------------------------------

    def request_booking(
        self,
        request: BookingRequested,
        work: UnitOfWork | None = None,
        repeated: Callable[[Booking, UnitOfWork], None] | None = None,
        vouched: bool = False,
    ) -> Booking:
        """The booking for ``request``: the one already made for its request id or
        idempotency key (``repeated`` is told of it), or a new one whose saga starts
        with a hold request. ``vouched``: the front desk made it, so its contact may
        update the customer's record (see :meth:`Customer.learn`)."""

        def act(work: UnitOfWork) -> Booking:
            existing = self._existing(request)
            if existing is not None:
                if existing.fingerprint != intake.fingerprint(request):
                    raise IdempotencyKeyReused(
                        "this request id or Idempotency-Key was used for a different request"
                    )
                if repeated is not None:
                    repeated(existing, work)
                return existing
            booking, extra = self._new_booking(request, vouched)
            work.add(booking, *extra)
            return booking

        return self.in_work(work, act)

    def _existing(self, request: BookingRequested) -> Booking | None:
        tenant = request.tenant_id
        if request.idempotency_key:
            claim = self._find(Claim, intake.key_claim_id(tenant, request.idempotency_key))
            if claim is not None:
                return self.booking(tenant, claim.booking_id)
        return self._find(Booking, Booking.create_id(tenant, request.request_id))

    def _new_booking(
        self, request: BookingRequested, vouched: bool = False
    ) -> tuple[Booking, list[Any]]:
        tenant = request.tenant_id
        terms = self.catalog.service(tenant, request.service_id)
        contact = intake.contact_of(request, terms)
        customer = self.customer_met(tenant, contact, vouched)
        policy = self.policy_for(tenant, terms.price_tier) if terms else Policy()
        refusal = intake.refusal_of(request, terms, policy)
        reference = new_reference(self.choose)
        taken_in = Intake(
            reference=reference,
            customer_id=customer.id,
            terms=intake.terms_data(terms, request),
            policy=policy.to_data(),
            hold_ttl_seconds=int(self.hold_ttl.total_seconds()),
            requested_at=self.clock(),
            refusal=refusal,
            confirm_on_placing=refusal is None and policy.nothing_due_first(),
        )
        booking = Booking.take(intake.asked(request, contact), taken_in)
        claims: list[Any] = [Claim(tenant_id=tenant, reference=reference, booking_id=booking.id)]
        if request.idempotency_key:
            claims.append(
                Claim(
                    tenant_id=tenant,
                    reference=intake.key_claim(request.idempotency_key),
                    booking_id=booking.id,
                )
            )
        return booking, [customer, *claims]

    def request_reads(self, request: BookingRequested) -> list[UUID]:
        """The aggregates :meth:`request_booking` looks up (a batch loads them at once)."""
        tenant = request.tenant_id
        ids = [Booking.create_id(tenant, request.request_id)]
        if request.idempotency_key:
            ids.append(intake.key_claim_id(tenant, request.idempotency_key))
        terms = self.catalog.service(tenant, request.service_id)
        if terms is not None:
            ids.append(PolicyTier.create_id(tenant, terms.price_tier))
        known = self.directory.find(tenant, intake.contact_of(request, terms).customer_key)
        return [*ids, known] if known is not None else ids

    def customer_met(
        self, tenant_id: str, contact: ContactDetails, vouched: bool = False
    ) -> Customer:
        """The customer with this contact (the directory's id), registered the first time
        and told what this contact adds (see :meth:`Customer.learn`); the caller adds it
        to its unit of work."""
        customer_id = self.directory.find_or_add(tenant_id, contact.customer_key)
        customer = self._find(Customer, customer_id)
        if customer is None:
            return Customer.register(customer_id, tenant_id, contact)
        customer.learn(contact, vouched)
        return customer

    # --- the saga's answers (from availability and payments) -------------------------

    def on_booking(
        self,
        tenant_id: str,
        booking_key: str,
        act: Callable[[Booking], object],
        work: UnitOfWork | None = None,
    ) -> Booking | None:
        """Apply an answer to the booking a hold or payment belongs to; an answer for a
        booking this service does not know (a staff tool's hold) changes nothing."""

        def answer(work: UnitOfWork) -> Booking | None:
            booking = self._booking_by_key(tenant_id, booking_key)
            if booking is not None:
                act(booking)
                self.waitlist.follow(booking, work)
            return booking

        return self.in_work(work, answer)

    def _booking_by_key(self, tenant_id: str, key: str) -> Booking | None:
        try:
            booking_id = UUID(key)
        except ValueError:
            return None
        found = self._find(Booking, booking_id)
        return found if found is not None and found.tenant_id == tenant_id else None

    def time_out(self, booking_id: UUID) -> bool:
        """Give up on a saga that waited too long; True when it did."""

        def attempt(work: UnitOfWork) -> bool:
            booking = self._find(Booking, booking_id)
            if booking is None:
                raise UnknownBooking(f"no booking {booking_id}")
            timed_out = booking.time_out(
                self.clock(), self.timeouts.answer_within, self.timeouts.pay_within
            )
            self.waitlist.follow(booking, work)
            return timed_out

        return self.command(attempt)

    # --- changes by customers and staff ----------------------------------------------

    def cancel(
        self,
        tenant_id: str,
        booking_id: UUID,
        by: Actor,
        reason: str | None,
        request_id: str | None = None,
        work: UnitOfWork | None = None,
    ) -> Booking:

        def cancel(work: UnitOfWork) -> Booking:
            booking = self.booking(tenant_id, booking_id)
            now = self.clock()
            booking.cancel(by, now, reason, request_id)
            self.waitlist.giving_back(booking, now, FreedBy.CANCELLED, work)
            return booking

        return self.in_work(work, cancel)

    def reschedule(
        self,
        tenant_id: str,
        booking_id: UUID,
        by: Actor,
        start: datetime,
        preferred_staff_id: str | None = None,
        request_id: str | None = None,
        work: UnitOfWork | None = None,
    ) -> Booking:
        return self._change(
            tenant_id,
            booking_id,
            lambda b: b.ask_reschedule(
                by, start.astimezone(UTC), self.clock(), preferred_staff_id, request_id
            ),
            work,
        )

    def complete(self, tenant_id: str, booking_id: UUID) -> Booking:
        return self._change(tenant_id, booking_id, lambda b: b.complete(self.clock()))

    def mark_arrived(self, tenant_id: str, booking_id: UUID) -> Booking:
        return self._change(tenant_id, booking_id, lambda b: b.mark_arrived(self.clock()))

    def mark_no_show(self, tenant_id: str, booking_id: UUID) -> Booking:
        return self._change(tenant_id, booking_id, lambda b: b.mark_no_show(self.clock()))

    def revoke_links(self, tenant_id: str, booking_id: UUID) -> Booking:
        """Every manage link sent for the booking stops working; the card's is new."""
        return self._change(tenant_id, booking_id, lambda b: b.revoke_links())

    def _change(
        self,
        tenant_id: str,
        booking_id: UUID,
        act: Callable[[Booking], None],
        work: UnitOfWork | None = None,
    ) -> Booking:
        def change(work: UnitOfWork) -> Booking:
            booking = self.booking(tenant_id, booking_id)
            act(booking)
            return booking

        return self.in_work(work, change)

    # --- reading ---------------------------------------------------------------------

    def booking(self, tenant_id: str, booking_id: UUID) -> Booking:
        found = self._find(Booking, booking_id)
        if found is None or found.tenant_id != tenant_id:
            raise UnknownBooking(f"no booking {booking_id}")
        return found

    def booking_by_reference(self, tenant_id: str, reference: str) -> Booking:
        claim = self._find(Claim, Claim.create_id(tenant_id, normalise_reference(reference)))
        if claim is None:
            raise UnknownBooking(f"no booking with reference {reference!r}")
        return self.booking(tenant_id, claim.booking_id)

    def customer(self, tenant_id: str, customer_id: UUID) -> Customer:
        found = self._find(Customer, customer_id)
        if found is None or found.tenant_id != tenant_id:
            raise UnknownBooking(f"no customer {customer_id}")
        return found

    def _find(self, kind: type[T], aggregate_id: UUID) -> T | None:
        found = self.get_many([aggregate_id]).get(aggregate_id)
        return found if isinstance(found, kind) else None
