"""The KPIs of a period, computed from fact records. Pure: no I/O, no clock.

Each KPI says which moment places a case in the period (its anchor); docs/analytics.md
gives the definitions with examples.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from slotline.analytics.domain.facts import (
    BookingFact,
    CallbackFact,
    CallFact,
    Period,
    RequestFact,
    WaitlistFact,
    WaitlistOfferFact,
)
from slotline.analytics.domain.figures import Durations, Ratio

ALL_CHANNELS = "all"
UNKNOWN_CHANNEL = "unknown"


def booking_conversion(requests: Iterable[RequestFact], period: Period) -> dict[str, Ratio]:
    """Requests made in the period that became confirmed bookings, overall and per channel."""
    made = [r for r in requests if r.requested_at in period]
    by_channel: dict[str, list[RequestFact]] = defaultdict(list)
    for request in made:
        by_channel[request.channel or UNKNOWN_CHANNEL].append(request)
    shares = {ALL_CHANNELS: _booked_share(made)}
    shares.update({channel: _booked_share(rs) for channel, rs in sorted(by_channel.items())})
    return shares


def _booked_share(requests: Sequence[RequestFact]) -> Ratio:
    return Ratio.of(sum(r.confirmed_at is not None for r in requests), len(requests))


def time_to_book(requests: Iterable[RequestFact], period: Period) -> Durations:
    """From a request (made in the period) to its booking's confirmation."""
    return Durations.of(
        (r.confirmed_at - r.requested_at).total_seconds()
        for r in requests
        if r.requested_at in period and r.requested_at and r.confirmed_at is not None
    )


def _appointments(bookings: Iterable[BookingFact], period: Period) -> list[BookingFact]:
    """Confirmed bookings whose service time starts in the period."""
    return [b for b in bookings if b.confirmed_at is not None and b.slot_start in period]


def no_show_rate(bookings: Iterable[BookingFact], period: Period) -> Ratio:
    """Of the appointments in the period with a known outcome, those the customer missed."""
    settled = [
        b
        for b in _appointments(bookings, period)
        if b.cancelled_at is None and (b.no_show_at or b.completed_at)
    ]
    return Ratio.of(sum(b.no_show_at is not None for b in settled), len(settled))


def cancellation_rate(bookings: Iterable[BookingFact], period: Period) -> Ratio:
    """Of the appointments booked for the period, those cancelled."""
    booked = _appointments(bookings, period)
    return Ratio.of(sum(b.cancelled_at is not None for b in booked), len(booked))


def late_cancellation_rate(bookings: Iterable[BookingFact], period: Period) -> Ratio:
    """Of the appointments booked for the period, those cancelled inside the fee window."""
    booked = _appointments(bookings, period)
    late = sum(b.cancelled_at is not None and b.cancelled_late for b in booked)
    return Ratio.of(late, len(booked))


def same_day_share(bookings: Iterable[BookingFact], period: Period) -> Ratio:
    """Of the bookings confirmed in the period, those for the same local day."""
    confirmed = [b for b in bookings if b.confirmed_at in period and b.slot_start is not None]
    same_day = sum(_local_day(b, b.confirmed_at) == _local_day(b, b.slot_start) for b in confirmed)
    return Ratio.of(same_day, len(confirmed))


def _local_day(booking: BookingFact, moment: datetime | None) -> object:
    assert moment is not None
    try:
        zone = ZoneInfo(booking.time_zone) if booking.time_zone else UTC
    except (ZoneInfoNotFoundError, ValueError):
        zone = UTC
    return moment.astimezone(zone).date()


@dataclass(frozen=True)
class Refill:
    """How cancelled slots were taken again: the share refilled, and how fast."""

    filled: Ratio
    time_to_fill: Durations


def time_to_fill(
    cancelled: Iterable[BookingFact], bookings: Iterable[BookingFact], period: Period
) -> Refill:
    """For each slot freed by a cancellation in the period (before the slot began): the
    first later booking confirmed before that start, on a shared resource, overlapping it."""
    candidates = [b for b in bookings if b.confirmed_at is not None and b.slot_start is not None]
    freed = [
        b
        for b in cancelled
        if b.cancelled_at in period
        and b.slot_start is not None
        and b.slot_end is not None
        and b.cancelled_at is not None
        and b.cancelled_at < b.slot_start
    ]
    waits = []
    for gap in freed:
        refills = [
            c.confirmed_at for c in candidates if _refills(gap, c) and c.confirmed_at is not None
        ]
        if refills:
            assert gap.cancelled_at is not None
            waits.append((min(refills) - gap.cancelled_at).total_seconds())
    return Refill(Ratio.of(len(waits), len(freed)), Durations.of(waits))


def _refills(gap: BookingFact, other: BookingFact) -> bool:
    assert gap.cancelled_at is not None
    assert gap.slot_start is not None
    assert gap.slot_end is not None
    return (
        other.booking_id != gap.booking_id
        and other.confirmed_at is not None
        and gap.cancelled_at <= other.confirmed_at < gap.slot_start
        and other.slot_start is not None
        and other.slot_end is not None
        and other.slot_start < gap.slot_end
        and gap.slot_start < other.slot_end
        and bool(set(other.resource_ids) & set(gap.resource_ids))
    )


def missed_call_rate(calls: Iterable[CallFact], period: Period) -> Ratio:
    """Of the calls that came in during the period, those nobody answered."""
    came_in = [c for c in calls if (c.received_at or c.missed_at) in period]
    return Ratio.of(sum(c.missed_at is not None for c in came_in), len(came_in))


def text_back_coverage(calls: Iterable[CallFact], period: Period) -> Ratio:
    """Of the calls missed in the period, those whose caller was sent a text-back."""
    missed = [c for c in calls if c.missed_at in period]
    return Ratio.of(sum(c.texted_back_at is not None for c in missed), len(missed))


def speed_to_lead(callbacks: Iterable[CallbackFact], period: Period) -> Durations:
    """From a lead (the missed call, else the task's creation) to the first callback
    attempt, for the tasks created in the period that someone has called."""
    return Durations.of(
        (t.first_attempt_at - (t.lead_at or t.created_at)).total_seconds()
        for t in callbacks
        if t.created_at in period and t.first_attempt_at is not None and t.created_at is not None
    )


@dataclass(frozen=True)
class SlaCompliance:
    """Callback tasks answered by their deadline, of those whose outcome is known."""

    within_sla: Ratio
    pending: int


def callbacks_within_sla(
    callbacks: Iterable[CallbackFact], period: Period, now: datetime
) -> SlaCompliance:
    """A task created in the period is within SLA if someone called (or it closed) by its
    deadline, breached once the deadline passed without that, pending before then."""
    within = breached = pending = 0
    for task in callbacks:
        if task.created_at not in period or task.deadline is None:
            continue
        answered = task.answered_at
        if answered is not None and answered <= task.deadline:
            within += 1
        elif answered is not None or now > task.deadline:
            breached += 1
        else:
            pending += 1
    return SlaCompliance(Ratio.of(within, within + breached), pending)


@dataclass(frozen=True)
class WaitlistFigures:
    """Waitlist places that, in the period, joined, were first offered a slot, claimed
    one, let an offer pass or left; ``refill_rate``: of those offered in the period, the
    ones that claimed. ``slots_filled`` and ``time_to_fill``: of the slots bookings gave
    back in the period and the waitlist offered, those a waitlisted customer claimed, and
    how long each stayed empty (see ``waitlist_fills``)."""

    joined: int
    offered: int
    claimed: int
    passed: int
    left: int
    refill_rate: Ratio
    slots_filled: Ratio
    time_to_fill: Durations


OPENED = "opened"  # WaitlistOffered.slot_freed_by of a slot no booking gave back


def waitlist_fills(offers: Iterable[WaitlistOfferFact], period: Period) -> Refill:
    """Each freeing of a slot by a booking (cancelled, released, expired or moved away;
    a cause not told counts too) in the period that the waitlist offered: one freeing —
    service, location, start and ``slot_freed_at`` — however many offers passed before
    one was claimed. Filled by its claim, after claim − freeing; a freeing nobody claimed has no
    time-to-fill and counts as not filled. A slot that opened (no booking gave it back)
    is no refill and is left out."""
    claims: dict[tuple[str | None, str | None, datetime, datetime], list[datetime]] = {}
    for offer in offers:
        if (
            offer.slot_freed_at not in period
            or offer.slot_freed_by == OPENED
            or offer.slot_start is None
            or offer.slot_freed_at is None
        ):
            continue
        freeing = (offer.service_id, offer.location_id, offer.slot_start, offer.slot_freed_at)
        found = claims.setdefault(freeing, [])
        if offer.claimed_at is not None:
            found.append(offer.claimed_at)
    waits = [
        (min(claimed) - freed_at).total_seconds()
        for (*_, freed_at), claimed in claims.items()
        if claimed
    ]
    return Refill(Ratio.of(len(waits), len(claims)), Durations.of(waits))


def waitlist(
    entries: Iterable[WaitlistFact], offers: Iterable[WaitlistOfferFact], period: Period
) -> WaitlistFigures:
    """Each count is anchored on its own moment; the refill rate on the offer; the
    slots filled and time-to-fill on the freeing."""
    entries = list(entries)
    fills = waitlist_fills(offers, period)

    def count(moment: str) -> int:
        return sum(getattr(e, moment) in period for e in entries)

    offered = [e for e in entries if e.offered_at in period]
    return WaitlistFigures(
        joined=count("joined_at"),
        offered=len(offered),
        claimed=count("claimed_at"),
        passed=count("passed_at"),
        left=count("left_at"),
        refill_rate=Ratio.of(sum(e.claimed_at is not None for e in offered), len(offered)),
        slots_filled=fills.filled,
        time_to_fill=fills.time_to_fill,
    )
