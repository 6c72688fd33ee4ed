"""What an outcome on booking.events.v1 tells analytics about the request it answers."""

from __future__ import annotations

import pytest

from slotline.analytics.messaging import facts_of
from slotline.events.contract.booking import BookingRejected
from slotline.events.contract.common import Channel

pytestmark = pytest.mark.unit


def test_a_refused_request_is_counted_under_the_channel_it_came_from() -> None:
    """A request refused at the web intake is never held and never on booking.requests:
    its rejection is all analytics sees of it (it was counted under ``unknown``)."""
    rejected = BookingRejected(
        tenant_id="t1",
        aggregate_id="b1",
        booking_id="b1",
        request_id="r1",
        reason="slot_taken",
        channel=Channel.WEB,
    )
    [(table, key, values)] = facts_of(rejected)
    assert table == "booking_request"
    assert key["request_id"] == "r1"
    assert values["channel"][0] == Channel.WEB
