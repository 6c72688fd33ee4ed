"""A tiny event-sourced domain for exercising the plumbing (relay, inbox, DLQ).

``Tally`` aggregates count; each count publishes a ``TallyCounted`` message on the
test topic ``slotline.test.tally.v1``; a ``TallyLedger`` consumer applies each count
to its own ``Credit`` aggregate, so "exactly once" can be checked by counting.
Not part of the public contract: the parser here knows only this test topic.
"""

from __future__ import annotations

import json
import uuid
from typing import Any, ClassVar

from eventsourcing.domain import Aggregate, event
from pydantic import ValidationError

from slotline.events.contract.registry import InvalidMessage, UndecodableMessage, describe
from slotline.events.envelope import Message
from slotline.events.publishing import Publisher
from slotline.events.store import ServiceApplication
from slotline.events.unit_of_work import UnitOfWork

TALLY_TOPIC = "slotline.test.tally.v1"


class TallyCounted(Message):
    """A tally was counted up (test-only message)."""

    EVENT_TYPE: ClassVar[str] = "TallyCounted"
    TOPIC: ClassVar[str] = TALLY_TOPIC

    amount: int
    total: int


class Tally(Aggregate):
    class Counted(Aggregate.Event):
        amount: int

    def __init__(self, tenant_id: str = "test") -> None:
        self.tenant_id = tenant_id
        self.total = 0

    @event(Counted)
    def count(self, amount: int) -> None:
        self.total += amount


class TallyApplication(ServiceApplication):
    name = "tally"
    env: ClassVar[dict[str, str]] = dict(ServiceApplication.env)


def tally_publisher(_: object = None) -> Publisher:
    """What a tally service publishes: each count, from the tally right after it."""
    publisher = Publisher(Tally)

    publisher.add(Tally.Counted, tally_counted)
    return publisher


def tally_counted(tally: Tally, domain_event: Tally.Counted) -> Message:
    """A count as published: the amount, and the tally's total right after it."""
    return TallyCounted(
        tenant_id=tally.tenant_id,
        aggregate_id=str(tally.id),
        amount=domain_event.amount,
        total=tally.total,
    )


def tally_to_message(domain_event: Any) -> Message | None:
    """The same as a legacy mapper (a function of the event alone)."""
    if isinstance(domain_event, Tally.Counted):
        return TallyCounted(
            tenant_id="test",
            aggregate_id=str(domain_event.originator_id),
            amount=domain_event.amount,
            total=0,
        )
    return None


def parse_tally(topic: str, raw: bytes) -> Message:
    """Parser for the test topic, raising the contract's own violations."""
    try:
        data = json.loads(raw)
    except ValueError as error:
        raise UndecodableMessage(f"not JSON: {error}") from error
    try:
        return TallyCounted.model_validate(data)
    except ValidationError as error:  # the field and the rule, never the value
        raise InvalidMessage(describe(error)) from error


class Credit(Aggregate):
    """The consumer's record of what one source tally has credited."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.amounts: list[int] = []

    @staticmethod
    def create_id(source: str) -> uuid.UUID:
        return uuid.uuid5(uuid.NAMESPACE_URL, f"credit:{source}")

    @event("Credited")
    def credit(self, amount: int) -> None:
        self.amounts.append(amount)


def ledger_inbox(ledger: TallyLedger, broker: Any, settings: Any) -> Any:
    """An inbox applying tally counts to ``ledger`` (as a consuming service's would)."""
    from slotline.events.inbox import Inbox, Subscription

    inbox = Inbox(ledger, broker, settings, consumer="ledger", parser=parse_tally)
    inbox.subscribe(Subscription(TALLY_TOPIC, {TallyCounted: ledger.credit_count}))
    return inbox


class TallyLedger(ServiceApplication):
    name = "ledger"
    env: ClassVar[dict[str, str]] = dict(ServiceApplication.env)

    def credit_count(self, message: TallyCounted, work: UnitOfWork) -> None:
        """The inbox handler: credit the count in the batch's unit of work."""
        credit = work.get(Credit, Credit.create_id(message.aggregate_id))
        if credit is None:
            credit = Credit(message.aggregate_id)
            work.add(credit)
        credit.credit(message.amount)
