"""Which booking events payments acts on, by class: an older version of an event is
the event (it is read still), and the subscription hands over nothing else."""

from __future__ import annotations

from typing import Any, cast

import pytest

from slotline.events.contract import booking as bookings
from slotline.events.envelope import Message
from slotline.events.testing.samples import sample
from slotline.events.unit_of_work import UnitOfWork
from slotline.payments.application import PaymentsApplication
from slotline.payments.messaging import booking_decisions, subscriptions

pytestmark = pytest.mark.unit


class Calls:
    """Stands in for the application: which use case each message reached."""

    def __init__(self) -> None:
        self.made: list[str] = []

    def __getattr__(self, name: str) -> Any:
        return lambda *args, **kwargs: self.made.append(name)


@pytest.mark.parametrize(
    ("event", "use_case"),
    [
        (bookings.BookingHeld, "note_contact"),
        (bookings.BookingHeldV1, "note_contact"),
        (bookings.BookingConfirmed, "booking_confirmed"),
        (bookings.BookingConfirmedV1, "booking_confirmed"),
        (bookings.BookingExpired, "booking_released"),
        (bookings.CustomerErased, "customer_erased"),
    ],
)
def test_each_event_reaches_its_use_case(event: type[Message], use_case: str) -> None:
    app = Calls()
    apply = booking_decisions(cast(PaymentsApplication, app))
    apply(cast(Message, sample(event)), cast(UnitOfWork, object()))
    assert app.made == [use_case]


def test_the_subscription_hands_over_only_what_payments_decides_on() -> None:
    [subscription] = subscriptions(cast(PaymentsApplication, Calls()))
    assert subscription.handler_for(cast(Message, sample(bookings.BookingConfirmedV1)))
    assert subscription.handler_for(cast(Message, sample(bookings.CustomerRegistered))) is None
