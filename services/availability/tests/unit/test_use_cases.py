"""Availability's use cases on the in-memory store: a clinic is set up, a hold is placed
and confirmed, and the same slot is then refused with alternatives — no PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from slotline.availability.application import (
    AvailabilityApplication,
    HoldRefused,
    HoldRequest,
    HoldTaken,
)
from slotline.availability.demo import open_clinic
from slotline.availability.domain.hold import Hold, HoldStatus, InvalidTransition
from slotline.availability.domain.rules import RejectionReason

pytestmark = pytest.mark.unit

NOW = datetime(2027, 3, 1, 8, tzinfo=UTC)
ATHENS = ZoneInfo("Europe/Athens")
START = datetime(2027, 3, 2, 10, tzinfo=ATHENS)


@pytest.fixture
def app() -> AvailabilityApplication:
    return AvailabilityApplication(clock=lambda: NOW)


def test_a_hold_is_placed_confirmed_and_its_slot_then_refused_with_alternatives(
    app: AvailabilityApplication,
) -> None:
    clinic = open_clinic(app, "clinic-a", staff=1, rooms=1, opens=time(9), closes=time(13))

    def hold(key: str) -> HoldTaken | HoldRefused:
        return app.place_hold(
            HoldRequest("clinic-a", key, clinic.service_id, clinic.location_id, START)
        )

    taken = hold("booking-1")
    assert isinstance(taken, HoldTaken)
    assert set(taken.resource_ids) == {clinic.staff_ids[0], clinic.room_ids[0]}
    assert (
        app.place_hold(
            HoldRequest("clinic-a", "booking-1", clinic.service_id, clinic.location_id, START)
        )
        == taken
    ), "a hold key seen before gets the first answer again"

    assert app.confirm_or_expire(taken.hold_id).status is HoldStatus.CONFIRMED

    refused = hold("booking-2")
    assert isinstance(refused, HoldRefused)
    assert refused.reason is RejectionReason.TAKEN
    assert refused.alternatives, "the nearest free slots are offered instead"
    assert all(a.start != START for a in refused.alternatives)


def test_a_hold_that_ran_out_is_expired_not_confirmed(app: AvailabilityApplication) -> None:
    clinic = open_clinic(app, "clinic-b", staff=1, rooms=1)
    taken = app.place_hold(
        HoldRequest(
            "clinic-b", "late", clinic.service_id, clinic.location_id, START,
            ttl=timedelta(minutes=5),
        )
    )  # fmt: skip
    assert isinstance(taken, HoldTaken)
    app.clock = lambda: NOW + timedelta(minutes=6)
    assert app.confirm_or_expire(taken.hold_id).status is HoldStatus.EXPIRED


def test_a_customer_gets_only_a_start_the_slot_list_offers(app: AvailabilityApplication) -> None:
    """Issue 15 item 9: 10:07 is off the 15-minute grid; a customer's hold there is
    refused with the nearest offered starts, staff place it when they say so."""
    clinic = open_clinic(app, "clinic-g", staff=2, rooms=2, opens=time(9), closes=time(13))
    off_grid = START + timedelta(minutes=7)

    def hold(key: str, start: datetime, offered_only: bool) -> HoldTaken | HoldRefused:
        return app.place_hold(
            HoldRequest(
                "clinic-g",
                key,
                clinic.service_id,
                clinic.location_id,
                start,
                offered_only=offered_only,
            )
        )

    refused = hold("customer", off_grid, offered_only=True)
    assert isinstance(refused, HoldRefused)
    assert refused.reason is RejectionReason.OUTSIDE_HOURS
    assert [a.start for a in refused.alternatives[:2]] == [START, START + timedelta(minutes=15)]
    assert isinstance(hold("on-grid", START + timedelta(hours=1), offered_only=True), HoldTaken)
    staff = hold("staff", off_grid, offered_only=False)
    assert isinstance(staff, HoldTaken), "staff may place any start the hours allow"


def test_a_hold_confirmed_on_placing_is_an_allocation_its_booking_may_still_release(
    app: AvailabilityApplication,
) -> None:
    """A booking with nothing due first asks for the hold and its confirmation at once
    (two hops fewer): the slot is allocated, not held, so it outlives the hold's time; a
    release from its booking (which stopped waiting before the answer came) frees it."""
    clinic = open_clinic(app, "clinic-h", staff=1, rooms=1, opens=time(9), closes=time(13))

    def hold(key: str, confirm: bool = False) -> HoldTaken | HoldRefused:
        request = HoldRequest(
            "clinic-h", key, clinic.service_id, clinic.location_id, START,
            ttl=timedelta(minutes=5), confirm=confirm,
        )  # fmt: skip
        return app.place_hold(request)

    taken = hold("at-once", confirm=True)
    assert isinstance(taken, HoldTaken)
    held: Hold = app.repository.get(taken.hold_id)
    assert held.status is HoldStatus.CONFIRMED
    assert held.expires_at is None
    app.clock = lambda: NOW + timedelta(minutes=6)  # past the hold's time
    assert app.expire_hold(taken.hold_id).status is HoldStatus.CONFIRMED
    refused = hold("after-its-time")
    assert isinstance(refused, HoldRefused)
    assert refused.reason is RejectionReason.TAKEN

    assert app.release_hold(taken.hold_id, "booking_timed_out").status is HoldStatus.RELEASED
    assert isinstance(hold("once-freed"), HoldTaken)


def test_a_hold_confirmed_when_asked_is_cancelled_not_released(
    app: AvailabilityApplication,
) -> None:
    """Its booking took the answer and asked for the confirmation: only a cancellation
    frees it; a release is refused as before."""
    clinic = open_clinic(app, "clinic-i", staff=1, rooms=1, opens=time(9), closes=time(13))
    taken = app.place_hold(
        HoldRequest("clinic-i", "asked", clinic.service_id, clinic.location_id, START)
    )
    assert isinstance(taken, HoldTaken)
    app.confirm_or_expire(taken.hold_id)
    with pytest.raises(InvalidTransition):
        app.release_hold(taken.hold_id)
    assert app.cancel_allocation(taken.hold_id).status is HoldStatus.CANCELLED
