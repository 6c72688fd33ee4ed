"""The waitlist: customers waiting for a service at a location on one local day, in the
order they joined, and the freed slots offered to them one at a time.

One line per tenant × service × location × day, so every decision about who is offered
which slot is made on one aggregate (its version guards it: two replicas deciding at
once, one redoes on fresh state). An entry's life::

    waiting ──slot seen free──▶ offered ──claimed──▶ claimed
       ▲  │                       │  └──not claimed in time / declined──▶ passed
       │  └──leave──▶ left        └──hold refused (someone was faster)──┐
       └─────────────────────────────────────────────────────────────────┘

A slot is under at most one offer at a time; an entry has at most one offer. The line
remembers which starts were freed (``free``), since when and by what (time-to-fill); a
start leaves it when claimed, or when its hold is refused or still held by a passed
offer — then it is ``passing``: when that hold is given back, the start is free again
as part of the same freeing (time-to-fill counts from the first, not from the pass).
A start a cancelled booking is giving back is ``passing`` too, until availability says
it is free, so its cause is kept whichever of availability's messages comes first.

Why this file is longer than 400 lines: like ``booking.py`` it is one event-sourced
aggregate, whose 10 stored events live in the class beside the method that records
each; its values are in :mod:`.waitlist_values`.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from slotline.booking.domain.waitlist_values import (
    OPEN,
    EntryStatus,
    FreedBy,
    Freeing,
    Match,
    NotInLine,
    Offer,
)

WAITLIST_NAMESPACE = uuid5(NAMESPACE_URL, "https://slotline.dev/booking/waitlist")


class WaitlistLine(Aggregate):
    @staticmethod
    def create_id(tenant_id: str, service_id: str, location_id: str, day: date | str) -> UUID:
        """One line per day (``day``: a date or its ISO text, as stored)."""
        return uuid5(WAITLIST_NAMESPACE, f"{tenant_id}:{service_id}:{location_id}:{day}")

    @staticmethod
    def entry_id_for(line_id: UUID, customer_id: UUID, number: int) -> UUID:
        """Deterministic, so a join retried on a version conflict makes the same entry."""
        return uuid5(WAITLIST_NAMESPACE, f"{line_id}:{customer_id}:{number}")

    class Opened(Aggregate.Created):
        tenant_id: str
        service_id: str
        location_id: str
        day: str  # ISO 8601: the store transcodes no plain dates

    @event(Opened)
    def __init__(self, *, tenant_id: str, service_id: str, location_id: str, day: str) -> None:
        self.tenant_id = tenant_id
        self.service_id = service_id
        self.location_id = location_id
        self.day = date.fromisoformat(day)
        self.entries: dict[str, dict[str, Any]] = {}
        self.offers: dict[str, dict[str, Any]] = {}
        self.free: dict[str, str] = {}  # ISO start → ISO instant first seen free
        self.freeings: dict[str, Freeing] = {}  # ISO start → what freed it
        self.passing: dict[str, Freeing] = {}  # ISO start → its freeing, held by a passed offer
        self.joined = 0

    # --- reading ---------------------------------------------------------------------

    def entry(self, entry_id: str) -> dict[str, Any]:
        found = self.entries.get(entry_id)
        if found is None:
            raise NotInLine(f"no waitlist entry {entry_id}")
        return found

    def open_entry_of(self, customer_id: str) -> str | None:
        for entry_id, entry in self.entries.items():
            if entry["customer_id"] == customer_id and EntryStatus(entry["status"]) in OPEN:
                return entry_id
        return None

    def position(self, entry_id: str) -> int | None:
        """1 for the first still waiting or offered; None once out of the line."""
        place = 0
        for key, entry in self.entries.items():
            if EntryStatus(entry["status"]) in OPEN:
                place += 1
                if key == entry_id:
                    return place
        return None

    def offer(self, booking_id: str) -> Offer | None:
        found = self.offers.get(booking_id)
        if found is None:
            return None
        by = found.get("freed_by")
        return Offer(
            booking_id,
            found["entry_id"],
            datetime.fromisoformat(found["start"]),
            datetime.fromisoformat(found["freed_at"]),
            bool(found["sent"]),
            FreedBy(by) if by is not None else None,
            found.get("freed_booking_id"),
        )

    def offer_of(self, entry_id: str) -> Offer | None:
        for booking_id, found in self.offers.items():
            if found["entry_id"] == entry_id:
                return self.offer(booking_id)
        return None

    def matches(self) -> list[Match]:
        """Each free start not under an offer, with the first waiting entry it suits
        (its time range, a start it was not refused before); one start per entry."""
        offered = {o["start"] for o in self.offers.values()}
        taken: set[str] = set()
        found: list[Match] = []
        for start_text in sorted(self.free):
            if start_text in offered:
                continue
            start = datetime.fromisoformat(start_text)
            for entry_id, entry in self.entries.items():
                if entry_id in taken or entry["status"] != EntryStatus.WAITING.value:
                    continue
                earliest = datetime.fromisoformat(entry["earliest"])
                latest = datetime.fromisoformat(entry["latest"])
                if earliest <= start <= latest and start_text not in entry["tried"]:
                    taken.add(entry_id)
                    found.append(Match(entry_id, entry["customer_id"], start, entry["staff_id"]))
                    break
        return found

    # --- verbs -----------------------------------------------------------------------

    def join(
        self,
        entry_id: str,
        customer_id: str,
        earliest: datetime,
        latest: datetime,
        staff_id: str | None,
        consents: dict[str, bool],
        now: datetime,
    ) -> str:
        """The customer's open entry, or a new one at the end of the line."""
        existing = self.open_entry_of(customer_id)
        if existing is not None:
            return existing
        if latest < earliest:
            raise ValueError("the time range ends before it starts")
        self._join(
            entry_id,
            customer_id,
            earliest.isoformat(),
            latest.isoformat(),
            staff_id,
            consents,
            now,
        )
        return entry_id

    def freed(
        self,
        start: datetime,
        at: datetime,
        by: FreedBy | None = None,
        booking_id: str | None = None,
    ) -> None:
        """A start was given back (``by`` a cancellation, a lapsed or released hold, a
        move away of ``booking_id``): free for the line from ``at`` until offered and
        claimed, or until a hold on it is refused (someone else took it first). The hold
        of an offer that passed, given back, frees it as part of its first freeing."""
        if start.isoformat() not in self.free:
            self._free(start.isoformat(), at, by, booking_id)

    def _free(self, text: str, at: datetime, by: FreedBy | None, booking_id: str | None) -> None:
        earlier = self.passing.get(text)
        if earlier is not None:
            self._freed(text, earlier["at"], earlier["by"], earlier["booking_id"])
        else:
            self._freed(text, at.isoformat(), by.value if by else None, booking_id)

    def giving_back(self, start: datetime, at: datetime, by: FreedBy, booking_id: str) -> None:
        """``booking_id`` is giving ``start`` back (cancelled, ``by``) and availability
        has not said so yet. Its answer and its live view showing the start bookable race
        each other; whichever comes first frees the start with this cause and time (a
        view coming first would otherwise say ``opened``, and lose the cause)."""
        text = start.isoformat()
        if text not in self.free and text not in self.passing:
            self._giving_back(text, at.isoformat(), by.value, booking_id)

    def shown_free(self, starts: Iterable[datetime], at: datetime) -> None:
        """The live view, as computed at ``at``, shows these starts bookable — a new
        schedule or resource, a calendar block gone, or any change of the day: each one
        a waiting entry wants (in its range, not refused before) is free for the line.

        Only for entries that joined before the view was computed: a view from before
        someone joined may predate the booking they are waiting behind, and an offer it
        prompts would be refused and cost them that start (``lost``)."""
        for start in starts:
            text = start.isoformat()
            if text not in self.free and self._wanted(start, text, at):
                self._free(text, at, FreedBy.OPENED, None)

    def _wanted(self, start: datetime, text: str, seen_at: datetime) -> bool:
        return any(
            entry["status"] == EntryStatus.WAITING.value
            and datetime.fromisoformat(entry["earliest"])
            <= start
            <= datetime.fromisoformat(entry["latest"])
            and text not in entry["tried"]
            and _joined_by(entry, seen_at)
            for entry in self.entries.values()
        )

    def make_offer(self, match: Match, booking_id: str) -> None:
        self._offer(booking_id, match.entry_id, match.start.isoformat())

    def offer_sent(self, booking_id: str, slot_end: datetime, expires_at: datetime) -> None:
        offer = self.offer(booking_id)
        if offer is not None and not offer.sent:
            self._offer_sent(booking_id, slot_end, expires_at)

    def claimed(self, booking_id: str) -> None:
        offer = self.offers.get(booking_id)
        if offer is not None:
            self._claimed(
                booking_id,
                offer["entry_id"],
                offer["start"],
                offer.get("end") or offer["start"],
                offer["freed_at"],
                offer.get("freed_by"),
                offer.get("freed_booking_id"),
            )

    def passed(self, booking_id: str, reason: str, slot_still_held: bool) -> None:
        """Not claimed in time, or declined; ``slot_still_held``: its hold is not yet
        released, so the start is not free for the next until the view says so."""
        offer = self.offers.get(booking_id)
        if offer is not None:
            self._passed(booking_id, offer["entry_id"], reason, slot_still_held)

    def lost(self, booking_id: str) -> None:
        """The hold was refused (the slot went elsewhere first): the entry waits again,
        keeping its place, and is not offered that start again."""
        if booking_id in self.offers:
            self._lost(booking_id)

    def leave(self, entry_id: str, reason: str = "left") -> None:
        entry = self.entry(entry_id)
        if EntryStatus(entry["status"]) not in OPEN:
            raise NotInLine(f"waitlist entry {entry_id} is {entry['status']}, not in the line")
        offer = self.offer_of(entry_id)
        if offer is not None:
            self._passed(offer.booking_id, entry_id, "declined", True)
        self._leave(entry_id, reason)

    # --- events ----------------------------------------------------------------------

    class Joined(Aggregate.Event):
        entry_id: str
        customer_id: str
        earliest: str
        latest: str
        staff_id: str | None
        consents: dict[str, bool]
        joined_at: datetime

    @event(Joined)
    def _join(
        self,
        entry_id: str,
        customer_id: str,
        earliest: str,
        latest: str,
        staff_id: str | None,
        consents: dict[str, bool],
        joined_at: datetime,
    ) -> None:
        self.joined += 1
        self.entries[entry_id] = {
            "customer_id": customer_id,
            "earliest": earliest,
            "latest": latest,
            "staff_id": staff_id,
            "consents": dict(consents),
            "status": EntryStatus.WAITING.value,
            "tried": [],
            "joined_at": joined_at.isoformat(),
        }

    class Freed(Aggregate.Event):
        start: str
        at: str
        by: str | None = None  # absent from events stored before it was kept
        booking_id: str | None = None

    @event(Freed)
    def _freed(
        self, start: str, at: str, by: str | None = None, booking_id: str | None = None
    ) -> None:
        self.free = {**self.free, start: at}
        self.freeings = {**self.freeings, start: {"at": at, "by": by, "booking_id": booking_id}}
        self.passing = {k: v for k, v in self.passing.items() if k != start}

    class GivingBack(Aggregate.Event):
        """A booking of the line's day is giving its start back (see ``giving_back``)."""

        start: str
        at: str
        by: str
        booking_id: str

    @event(GivingBack)
    def _giving_back(self, start: str, at: str, by: str, booking_id: str) -> None:
        self.passing = {**self.passing, start: {"at": at, "by": by, "booking_id": booking_id}}

    class Offered(Aggregate.Event):
        """A booking was made to hold the start for the entry (the hold is asked)."""

        booking_id: str
        entry_id: str
        start: str

    @event(Offered)
    def _offer(self, booking_id: str, entry_id: str, start: str) -> None:
        self.entries[entry_id]["status"] = EntryStatus.OFFERED.value
        freed_at = self.free.get(start, start)
        freeing = self.freeings.get(start)
        self.offers[booking_id] = {
            "entry_id": entry_id,
            "start": start,
            "freed_at": freed_at,
            "freed_by": freeing["by"] if freeing else None,
            "freed_booking_id": freeing["booking_id"] if freeing else None,
            "sent": False,
        }

    class OfferSent(Aggregate.Event):
        """The hold was placed and the customer told: the offer runs until ``expires_at``."""

        booking_id: str
        slot_end: datetime
        expires_at: datetime

    @event(OfferSent)
    def _offer_sent(self, booking_id: str, slot_end: datetime, expires_at: datetime) -> None:
        self.offers[booking_id]["sent"] = True
        self.offers[booking_id]["end"] = slot_end.isoformat()

    class Claimed(Aggregate.Event):
        """The offer was claimed (what it was, for those who count time-to-fill)."""

        booking_id: str
        entry_id: str
        start: str
        end: str
        freed_at: str
        freed_by: str | None = None  # absent from events stored before it was kept
        freed_booking_id: str | None = None

    @event(Claimed)
    def _claimed(
        self,
        booking_id: str,
        entry_id: str,
        start: str,
        end: str,
        freed_at: str,
        freed_by: str | None = None,
        freed_booking_id: str | None = None,
    ) -> None:
        self.offers.pop(booking_id)
        self.entries[entry_id]["status"] = EntryStatus.CLAIMED.value
        self._forget(start)

    class Passed(Aggregate.Event):
        booking_id: str
        entry_id: str
        reason: str
        slot_still_held: bool

    @event(Passed)
    def _passed(self, booking_id: str, entry_id: str, reason: str, slot_still_held: bool) -> None:
        offer = self.offers.pop(booking_id)
        self.entries[offer["entry_id"]]["status"] = EntryStatus.PASSED.value
        if slot_still_held:
            start = offer["start"]
            self._forget(start)
            freeing: Freeing = {
                "at": offer["freed_at"],
                "by": offer.get("freed_by"),
                "booking_id": offer.get("freed_booking_id"),
            }
            self.passing = {**self.passing, start: freeing}

    class OfferLost(Aggregate.Event):
        booking_id: str

    @event(OfferLost)
    def _lost(self, booking_id: str) -> None:
        offer = self.offers.pop(booking_id)
        entry = self.entries[offer["entry_id"]]
        entry["status"] = EntryStatus.WAITING.value
        entry["tried"] = [*entry["tried"], offer["start"]]
        self._forget(offer["start"])  # taken by someone else: that freeing is over

    class Left(Aggregate.Event):
        entry_id: str
        reason: str

    @event(Left)
    def _leave(self, entry_id: str, reason: str) -> None:
        self.entries[entry_id]["status"] = EntryStatus.LEFT.value

    def _forget(self, start: str) -> None:
        """The start is no longer free for the line (claimed, taken, or held)."""
        self.free.pop(start, None)
        self.freeings = {k: v for k, v in self.freeings.items() if k != start}
        self.passing = {k: v for k, v in self.passing.items() if k != start}


def _joined_by(entry: dict[str, Any], at: datetime) -> bool:
    """Whether the entry had joined by ``at`` (an entry stored before join times were
    kept counts as not: no offer from a view that may be stale)."""
    joined = entry.get("joined_at")
    return joined is not None and datetime.fromisoformat(joined) <= at
