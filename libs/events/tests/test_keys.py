"""Every message type documents its key, and the documented key is checkable."""

from __future__ import annotations

import pytest

from slotline.events.contract.booking import (
    Actor,
    BookingCancelled,
    PaymentRequirement,
    PolicyDefined,
)
from slotline.events.contract.notifications import ReminderScheduled
from slotline.events.contract.registry import MESSAGES
from slotline.events.envelope import Message
from slotline.events.keys import documented_key, misplaced_keys, template_fields

pytestmark = pytest.mark.unit


@pytest.mark.parametrize("kind", list(MESSAGES.values()), ids=lambda kind: kind.__name__)
def test_every_message_type_says_what_its_key_is(kind: type[Message]) -> None:
    assert kind.KEY, f"{kind.__name__} documents no KEY"
    unknown = set(template_fields(kind.KEY)) - set(kind.model_fields)
    assert not unknown, f"{kind.__name__}.KEY names fields it does not have: {unknown}"


def reminder(aggregate_id: str) -> ReminderScheduled:
    return ReminderScheduled(
        tenant_id="t",
        aggregate_id=aggregate_id,
        booking_id="b-1",
        kind="24h",
        due_at="2030-01-01T09:00:00Z",
    )


class TestDocumentedKeys:
    def test_a_template_is_filled_from_the_message(self) -> None:
        assert documented_key(reminder("reminders:b-1")) == "reminders:b-1"
        policy = PolicyDefined.model_construct(
            tenant_id="t",
            aggregate_id="t:gold",
            price_tier="gold",
            payment=PaymentRequirement.NONE,
            free_cancellation_hours=24,
            free_changes=1,
        )
        assert documented_key(policy) == "t:gold"

    def test_a_record_keyed_as_documented_passes(self) -> None:
        assert misplaced_keys([(reminder("reminders:b-1"), b"reminders:b-1")]) == []

    def test_a_key_other_than_the_aggregate_id_is_named(self) -> None:
        [problem] = misplaced_keys([(reminder("reminders:b-1"), b"b-1")])
        assert problem.startswith("ReminderScheduled: key b'b-1'")

    def test_an_aggregate_id_other_than_the_documented_one_is_named(self) -> None:
        cancelled = BookingCancelled.model_construct(
            tenant_id="t",
            aggregate_id="req-9",
            booking_id="b-1",
            by=Actor.CUSTOMER,
            within_free_window=True,
        )
        [problem] = misplaced_keys([(cancelled, b"req-9")])
        assert "documented 'b-1'" in problem
