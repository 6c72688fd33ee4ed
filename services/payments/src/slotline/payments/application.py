"""The payments service's use cases on its event store: ledgers, their facts, policies.

Booking's decisions arrive with an inbox tracking record and are saved with it in one
transaction (a redelivery changes nothing). Gateway facts — answers, webhooks,
reconciliation — are saved with optimistic concurrency and retried on conflict.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, ClassVar, cast
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import Tracking
from eventsourcing.postgres import PostgresApplicationRecorder
from psycopg import sql

from slotline.events.logs import get_logger
from slotline.events.recorder import SlotlineRecorder
from slotline.events.store import ServiceApplication
from slotline.events.unit_of_work import AlreadyApplied, UnitOfWork
from slotline.payments.domain.facts import GatewayFact, OperationStalled
from slotline.payments.domain.ledger import FactMismatch, Ledger, UnknownPayment
from slotline.payments.domain.money import Money
from slotline.payments.domain.payment import Purpose, ReceiptTerms
from slotline.payments.domain.quote import TaxTerms
from slotline.payments.gateway.port import Gateway, PaymentAddress
from slotline.payments.policies import MemoryPolicyBook, PolicyBook, TierPolicies

log = get_logger(__name__)


class UnknownLedger(LookupError):
    """No ledger for that booking (in that tenant)."""


@dataclass(frozen=True)
class Contact:
    """Whose booking it is, and the address its receipts go to (if any)."""

    customer_id: str
    email: str | None


class PaymentsApplication(ServiceApplication):
    """Owns the payments event store (ledgers), its tracking table and the policy copy."""

    name = "payments"
    env: ClassVar[dict[str, str]] = dict(ServiceApplication.env)
    max_attempts: ClassVar[int] = 10  # a webhook, the dispatcher and booking may race

    def __init__(
        self,
        env: dict[str, str] | None = None,
        *,
        gateway: Gateway,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        super().__init__(env=env)
        self.gateway = gateway
        self.clock = clock or (lambda: datetime.now(UTC))
        self.policies: TierPolicies = (
            PolicyBook(self)
            if isinstance(self.recorder, SlotlineRecorder)
            else MemoryPolicyBook(self)
        )

    def close(self) -> None:
        closing = getattr(self.gateway, "close", None)
        if callable(closing):
            closing()
        super().close()

    # -- reading ------------------------------------------------------------------------

    def ledger(self, tenant_id: str, booking_id: str) -> Ledger:
        try:
            ledger: Ledger = self.repository.get(Ledger.create_id(tenant_id, booking_id))
        except AggregateNotFoundError:
            raise UnknownLedger(f"no payments for booking {booking_id}") from None
        return ledger

    def history(self, ledger_id: UUID) -> list[Any]:
        """Every stored event of a ledger, oldest first (for staff and audits)."""
        return list(self.events.get(ledger_id))

    def recent_ledger_ids(self, recent_events: int) -> list[UUID]:
        """Ledgers with an event among the store's latest ``recent_events`` (the store
        also keeps other aggregates, such as the audit trail's records)."""
        recorder = cast(PostgresApplicationRecorder, self.recorder)
        statement = sql.SQL(
            "SELECT originator_id FROM (SELECT originator_id, notification_id, topic FROM {}.{}"
            " ORDER BY notification_id DESC LIMIT %s) AS recent WHERE topic LIKE %s"
            " GROUP BY originator_id ORDER BY max(notification_id)"
        ).format(
            sql.Identifier(recorder.datastore.schema), sql.Identifier(recorder.events_table_name)
        )
        ledger_events = f"{Ledger.__module__}:{Ledger.__qualname__}.%"
        with recorder.datastore.transaction(commit=False) as cursor:
            cursor.execute(statement, (recent_events, ledger_events))
            return [row["originator_id"] for row in cursor.fetchall()]

    def receipt_terms(self, ledger: Ledger) -> ReceiptTerms:
        """Tax terms of the ledger's tier (none known: no tax line), a fresh id, now."""

        def tax_terms() -> TaxTerms:
            policy = self.policies.get(ledger.tenant_id, ledger.price_tier or "")
            return policy.tax if policy is not None else TaxTerms(0, True)

        return ReceiptTerms(tax_terms=tax_terms, new_id=lambda: uuid.uuid4().hex, now=self.clock)

    # -- booking's decisions (each in its inbox batch's unit of work) ---------------------

    def customer_erased(self, tenant_id: str, customer_id: str, work: UnitOfWork) -> None:
        """Booking erased a customer: their key goes with the message's position, so the
        address their receipts went to reads as erased in every replay; cached ledgers
        are dropped once it commits (which are theirs is not kept), so none holds it in
        memory."""
        self.erase(tenant_id, customer_id)
        work.after_commit(self.forget_cached)

    def note_contact(
        self, tenant_id: str, booking_id: str, contact: Contact, work: UnitOfWork
    ) -> None:
        self._decide(
            tenant_id,
            booking_id,
            work,
            lambda ledger: ledger.note_contact(contact.email, contact.customer_id),
        )

    def request_payment(
        self,
        tenant_id: str,
        booking_id: str,
        *,
        amount: Money,
        purpose: Purpose,
        token: str | None,
        price_tier: str | None,
        work: UnitOfWork,
    ) -> None:
        def act(ledger: Ledger) -> None:
            ledger.request_payment(
                amount=amount, purpose=purpose, token=token, price_tier=price_tier
            )

        self._decide(tenant_id, booking_id, work, act)

    def booking_confirmed(
        self, tenant_id: str, booking_id: str, contact: Contact, work: UnitOfWork
    ) -> None:
        def act(ledger: Ledger) -> None:
            ledger.note_contact(contact.email, contact.customer_id)
            ledger.booking_confirmed()

        self._decide(tenant_id, booking_id, work, act, open_ledger=False)

    def booking_released(self, tenant_id: str, booking_id: str, why: str, work: UnitOfWork) -> None:
        self._decide(
            tenant_id,
            booking_id,
            work,
            lambda ledger: ledger.booking_released(why),
            open_ledger=False,
        )

    def booking_cancelled(
        self,
        tenant_id: str,
        booking_id: str,
        *,
        fee: Money | None,
        refund: Money | None,
        reason: str,
        work: UnitOfWork,
    ) -> None:
        def act(ledger: Ledger) -> None:
            ledger.booking_cancelled(fee=fee, refund=refund, reason=reason)

        self._decide(tenant_id, booking_id, work, act, open_ledger=fee is not None)

    def booking_no_show(
        self, tenant_id: str, booking_id: str, fee: Money | None, work: UnitOfWork
    ) -> None:
        self._decide(
            tenant_id,
            booking_id,
            work,
            lambda ledger: ledger.booking_no_show(fee),
            open_ledger=fee is not None,
        )

    def booking_rescheduled(
        self,
        tenant_id: str,
        booking_id: str,
        change_number: int,
        change_fee: Money | None,
        work: UnitOfWork,
    ) -> None:
        self._decide(
            tenant_id,
            booking_id,
            work,
            lambda ledger: ledger.booking_rescheduled(change_number, change_fee),
            open_ledger=change_fee is not None,
        )

    def _decide(
        self,
        tenant_id: str,
        booking_id: str,
        work: UnitOfWork,
        act: Callable[[Ledger], None],
        *,
        open_ledger: bool = True,
    ) -> None:
        """Apply a decision to the booking's ledger in ``work`` (the inbox batch's, which
        records the message's position with it).

        A ledger changed meanwhile (a webhook, the dispatcher) fails the commit, and the
        inbox applies the batch again on the newer ledger; a position recorded already (a
        redelivery) is not applied. A booking that never opened a ledger gets none for a
        decision that costs nothing.
        """
        ledger_id = Ledger.create_id(tenant_id, booking_id)
        ledger = work.get(Ledger, ledger_id)
        if ledger is None:
            if not open_ledger:
                return  # nothing was ever paid for this booking: only the position
            ledger = Ledger(tenant_id=tenant_id, booking_id=booking_id)
            work.add(ledger)
        act(ledger)

    # -- what the gateway says -----------------------------------------------------------

    def as_the_gateway_says(
        self, ledger_id: UUID, told: Sequence[GatewayFact]
    ) -> list[GatewayFact]:
        """What the gateway itself says about the payments a webhook told of: a webhook
        is a hint to look, never a fact to act on (its signing secret may leak; Stripe's
        fulfilment guide says to fetch the payment first). Payments the ledger never
        asked for are dropped. Raises ``GatewayUnavailable``: the sender retries."""
        try:
            ledger: Ledger = self.repository.get(ledger_id)
        except AggregateNotFoundError:
            raise UnknownLedger(f"no ledger {ledger_id}") from None
        facts: list[GatewayFact] = []
        for payment_id in dict.fromkeys(
            f.payment_id for f in told if not isinstance(f, OperationStalled)
        ):
            payment = ledger.payments.get(payment_id)
            if payment is None:
                log.warning("webhook about a payment this ledger never asked for", id=payment_id)
                continue
            address = PaymentAddress(
                ledger.tenant_id, ledger.booking_id, payment.payment_id, payment.reference
            )
            facts += self.gateway.state_of(address)
        return facts

    def learn(
        self,
        ledger_id: UUID,
        facts: Sequence[GatewayFact],
        tracking: Tracking | None = None,
    ) -> list[Any]:
        """Apply gateway facts to a ledger; return the domain events they caused.

        Repeated facts cause nothing. With ``tracking`` (the dispatcher's position), the
        facts and the position are saved in one transaction.
        """

        def apply(work: UnitOfWork) -> list[Any]:
            ledger = work.get(Ledger, ledger_id)
            if ledger is None:
                raise UnknownLedger(f"no ledger {ledger_id}")
            terms = self.receipt_terms(ledger)
            for fact in facts:
                try:
                    ledger.learn(fact, terms)
                except UnknownPayment as error:
                    log.warning("gateway fact about an unknown payment", error=str(error))
                except FactMismatch as error:  # forged, or a gateway gone wrong
                    log.error(
                        "ALERT: gateway fact contradicts the ledger; not applied",
                        ledger_id=str(ledger_id),
                        error=str(error),
                    )
            return list(ledger.pending_events)

        try:
            return self.command(apply, tracking=tracking, attempts=self.max_attempts)
        except AlreadyApplied:
            return []  # recorded before (a redelivered position)
