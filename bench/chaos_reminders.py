"""The chaos run's reminders: every reminder that fell due was sent once — none lost, none
twice, none for a booking cancelled before it was due, none before it was due.

**Load.** Reminders fall due during the run for the participants of group classes
starting a little over an hour from now: the tenant's reminder kinds are the notifier's
(``GET /preferences``: ``24h``, ``1h`` by default), so a class at ``S`` has its ``1h``
reminders due at ``S - 1 h`` (its ``24h`` ones are too late when booked: skipped, never
sent). One class per minute boundary ``m`` from 25 s after the load starts until 30 s
after it ends, starting at ``m + 1 h`` (a 1-minute slot grid), each with a staff member
and a room of its own (a class blocks them for 30 minutes); participants book over the
public HTTP endpoint, one every 2 s, into the next class whose reminders are due at
least ``MARGIN`` from now (a reminder due before the notifier has the confirmation is
not planned: it would overtake it). Every fourth participant whose booking came back
confirmed cancels it at once (front desk), long before its reminder is due.

Quiet hours: reminders wait for the recipient's sending window (never outside
08:00–21:00 of the recipient's time, whatever the tenant says), and CI may run at night.
So the classes are in a clinic whose zone is where it is about noon now (a fixed
``Etc/GMT±N`` zone), and the participants have Russian mobile numbers (``+7 9…``), whose
country spans eleven zones: the number tells no zone, the notifier takes the booking's.

**Check**, from the outside, once every class's reminders are due: the SMS provider's
record (each message's idempotency key ``<booking>:reminder:<kind>:<generation>:sms``
names the booking and the kind) and ``notifications.events.v1`` (``ReminderScheduled``,
``ReminderSkipped``, ``NotificationSent`` and ``NotificationFailed`` name the booking, the
kind or the notification ``<booking>:reminder:<kind>:<generation>``). For every reminder
kind of every booking confirmed with a phone and transactional consent:

- due before the booking was confirmed: no message, and ``ReminderSkipped too_late``;
- due after: ``ReminderScheduled`` — or, when the notifier had the confirmation only
  once it was due, ``ReminderSkipped too_late`` from then (counted in
  ``chaos_reminders_too_late``) — and then:
  - not due yet, or the booking cancelled before it was due: no message;
  - due: exactly one message and one ``NotificationSent``; or none and its send reported
    interrupted (a ``kill -9`` mid-send: never sent again — counted in
    ``chaos_reminders_interrupted``, as for confirmations); a booking cancelled after its
    reminder was due may have it or not, never twice.

Any other case is a violation, and so is a reminder message for a booking never confirmed
or a kind the tenant does not have. The load moves no booking (a move starts a new
generation of reminders): a moved booking would be left out, and is counted.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from datetime import time as clock_time
from uuid import uuid4

import httpx
from outside import read_all
from support import figure, say

from slotline.availability.application import AvailabilityApplication
from slotline.availability.demo import MASSAGE_NEEDS, Clinic
from slotline.availability.domain.values import (
    ResourceKind,
    ResourceSchedule,
    ServiceDefinition,
    WeeklyHours,
)
from slotline.events.contract.booking import BookingCancelled, BookingConfirmed, BookingRescheduled
from slotline.events.contract.notifications import (
    NotificationFailed,
    NotificationSent,
    ReminderScheduled,
    ReminderSkipped,
)
from slotline.events.envelope import Message
from slotline.events.store import ensure_schema, postgres_env
from slotline.events.topics import NOTIFICATIONS_EVENTS
from slotline.notifier.domain.reminders import ReminderKind, parse_kinds
from slotline.notifier.simulator import ProviderSimulator

MARGIN = 15.0
"""Seconds a participant books before its class's reminders are due, at the latest."""
LAST_DUE_AFTER_THE_LOAD = 45.0
"""The last class's reminders are due at most this long after the load ends (the next
minute boundary after the load is always within 60 s of MARGIN before it)."""
EVERY = 2.0
"""Seconds between participants."""
CANCEL_EVERY = 4
"""Every fourth participant confirmed cancels."""
CLASS = timedelta(minutes=5)
STUDIOS = 5
"""Studio ``j``'s classes start at minutes ``j`` mod 5: one class for every minute."""
LEAD = timedelta(hours=1)
"""The reminder kind the classes are for (the notifier's default ``1h``)."""


def midday_zone(at: datetime) -> str:
    """A fixed-offset zone where ``at`` is between 12:00 and 13:00."""
    offset = 12 - at.astimezone(UTC).hour  # -11 … +12
    return "Etc/GMT" + (f"{-offset:+d}" if offset else "")  # POSIX: Etc/GMT-3 is UTC+3


def open_class_studios(database_url: str, tenant_id: str, at: datetime) -> list[Clinic]:
    """Studios where it is about noon an hour from ``at``, each with a coach, a room and a
    5-minute group class (100 places) every 5 minutes from 10:0j to 15:0j local time —
    studio ``j`` at minutes ``j`` mod 5 (the contract's finest slot grid is 5 minutes)."""
    zone = midday_zone(at + LEAD)
    ensure_schema(database_url, "availability")
    app = AvailabilityApplication(env=postgres_env(database_url, "availability"))
    studios = []
    try:
        for j in range(STUDIOS):
            location = app.register_location(tenant_id, f"Chaos studio {j}", zone)
            hours = ResourceSchedule(WeeklyHours.every_day((clock_time(10, j), clock_time(15, j))))
            coach = app.register_resource(
                tenant_id, location, ResourceKind.STAFF, f"coach {j}", ["massage"], hours
            )
            room = app.register_resource(
                tenant_id, location, ResourceKind.ROOM, f"studio {j}", ["treatment"], hours
            )
            definition = ServiceDefinition(
                service_id=uuid4(),
                duration=CLASS,
                requirements=MASSAGE_NEEDS,
                capacity=100,
                slot_interval=timedelta(minutes=5),
                booking_horizon=timedelta(days=1),
            )
            service = app.define_service(tenant_id, location, "5-min group class", definition)
            studios.append(Clinic(tenant_id, location, service, (coach,), (room,)))
        return studios
    finally:
        app.close()


def next_due(now: datetime) -> datetime:
    """The first minute boundary at least ``MARGIN`` after ``now``."""
    earliest = now + timedelta(seconds=MARGIN)
    minute = earliest.replace(second=0, microsecond=0)
    return minute if minute >= earliest else minute + timedelta(minutes=1)


@dataclass
class ClassLoad:
    """Participants booking into the classes, and what became of them."""

    booking_url: str
    tenant_id: str
    studios: list[Clinic]
    manager_token: str
    requests: list[str] = field(default_factory=list)
    cancels: Counter[str] = field(default_factory=Counter)
    due: set[datetime] = field(default_factory=set)

    async def run(self, until: float) -> None:
        """Until ``until`` (monotonic), a participant every ``EVERY`` seconds into the
        class whose reminders are due next (at least ``MARGIN`` from now)."""
        last_due = datetime.now(UTC) + timedelta(
            seconds=until - time.monotonic() + LAST_DUE_AFTER_THE_LOAD
        )
        headers = {"Authorization": f"Bearer {self.manager_token}"}
        async with httpx.AsyncClient(base_url=self.booking_url, timeout=30) as http:
            participants: list[asyncio.Task[None]] = []
            n = 0
            while time.monotonic() < until:
                due = next_due(datetime.now(UTC))
                if due > last_due:
                    break
                self.due.add(due)
                n += 1
                task = asyncio.create_task(self._book(http, headers, due + LEAD, n))
                participants.append(task)
                await asyncio.sleep(EVERY)
            await asyncio.gather(*participants)

    async def _book(
        self, http: httpx.AsyncClient, headers: dict[str, str], start: datetime, n: int
    ) -> None:
        studio = self.studios[start.minute % STUDIOS]
        request_id = f"class-{uuid4().hex}"
        body = {
            "service_id": str(studio.service_id),
            "location_id": str(studio.location_id),
            "start": start.isoformat(),
            "name": f"Participant {n}",
            "phone": f"+7916{random.randrange(10**7):07d}",
            "request_id": request_id,
        }
        path = f"/v1/public/{self.tenant_id}/bookings"
        answer = await _retried(lambda: http.post(path, json=body))
        if answer is None:
            return  # never taken: booking was down for the whole of a customer's patience
        self.requests.append(request_id)
        if answer.status_code != 201 or n % CANCEL_EVERY:
            return
        booking_id = answer.json()["booking_id"]
        cancelled = await _retried(
            lambda: http.post(
                f"/v1/bookings/{booking_id}/cancel", json={"reason": "chaos"}, headers=headers
            )
        )
        self.cancels[str(cancelled.status_code) if cancelled else "gave up"] += 1


async def _retried(send: Callable[[], Awaitable[httpx.Response]]) -> httpx.Response | None:
    """A customer taps again while the service restarts (30 tries, a second apart)."""
    for _ in range(30):
        try:
            answer = await send()
            if answer.status_code < 500:
                return answer
        except httpx.TransportError:
            pass
        await asyncio.sleep(1)
    return None


# -- the check --------------------------------------------------------------------------


def reminder_of(notification_id: str) -> tuple[str, str] | None:
    """(booking id, kind) of a reminder's notification id or message key
    (``<booking>:reminder:<kind>:<generation>[:<channel>]``); None for other messages."""
    parts = notification_id.split(":")
    if len(parts) >= 4 and parts[1] == "reminder":
        return parts[0], parts[2]
    return None


@dataclass
class Booked:
    confirmed: BookingConfirmed
    cancelled_at: datetime | None = None
    moved: bool = False


def booked(booking_events: Iterable[Message]) -> dict[str, Booked]:
    """Bookings confirmed with a phone and transactional consent (so reminded by SMS)."""
    found: dict[str, Booked] = {}
    for event in booking_events:
        if (
            isinstance(event, BookingConfirmed)
            and event.contact.phone
            and event.consents.transactional
        ):
            found.setdefault(event.booking_id, Booked(event))
    for event in booking_events:
        entry = found.get(getattr(event, "booking_id", ""))
        if entry is None:
            continue
        if isinstance(event, BookingCancelled):
            at = event.occurred_at
            entry.cancelled_at = min(at, entry.cancelled_at) if entry.cancelled_at else at
        elif isinstance(event, BookingRescheduled):
            entry.moved = True
    return found


@dataclass
class Seen:
    """What the notifier published about one reminder (booking × kind)."""

    scheduled: bool = False
    skipped: list[tuple[str, datetime]] = field(default_factory=list)
    sent_events: set[str] = field(default_factory=set)
    interrupted: bool = False


def seen(notification_events: Iterable[Message]) -> dict[tuple[str, str], Seen]:
    found: dict[tuple[str, str], Seen] = defaultdict(Seen)
    for event in notification_events:
        if isinstance(event, ReminderScheduled):
            found[(event.booking_id, event.kind)].scheduled = True
        elif isinstance(event, ReminderSkipped):
            found[(event.booking_id, event.kind)].skipped.append((event.reason, event.occurred_at))
        elif isinstance(event, NotificationSent | NotificationFailed):
            reminder = reminder_of(event.notification_id)
            if reminder is None:
                continue
            if isinstance(event, NotificationSent):
                found[reminder].sent_events.add(str(event.event_id))
            elif "interrupted" in event.reason:
                found[reminder].interrupted = True
    return found


def provider_sent(provider: ProviderSimulator) -> Counter[tuple[str, str]]:
    """(booking, kind) → reminder messages the SMS provider accepted."""
    return Counter(
        reminder
        for message in provider.accepted
        if (reminder := reminder_of(str(message.get("key") or ""))) is not None
    )


@dataclass
class Verdicts:
    violations: list[str] = field(default_factory=list)
    figures: Counter[str] = field(default_factory=Counter)

    def wrong(self, why: str) -> None:
        self.violations.append(why)


def judge(
    bookings: dict[str, Booked],
    kinds: tuple[ReminderKind, ...],
    published: dict[tuple[str, str], Seen],
    messages: Counter[tuple[str, str]],
    now: datetime,
) -> Verdicts:
    """Every reminder of every booking against the rules of the module's docstring."""
    verdicts = Verdicts()
    names = {k.name for k in kinds}
    for (booking_id, kind_name), count in messages.items():
        if booking_id not in bookings or kind_name not in names:
            verdicts.wrong(f"{booking_id} {kind_name}: {count} reminder(s), never due")
    for booking_id, entry in bookings.items():
        if entry.moved:
            verdicts.figures["moved"] += 1
            continue
        for kind in kinds:
            _judge_one(
                booking_id,
                entry,
                kind,
                published.get((booking_id, kind.name), Seen()),
                messages[(booking_id, kind.name)],
                now,
                verdicts,
            )
    return verdicts


def _judge_one(
    booking_id: str,
    entry: Booked,
    kind: ReminderKind,
    seen_: Seen,
    count: int,
    now: datetime,
    verdicts: Verdicts,
) -> None:
    start = entry.confirmed.slot.start
    due, useful_until = kind.due_at(start), kind.useful_until(start)
    confirmed_at = entry.confirmed.occurred_at
    name = f"{booking_id} {kind.name} (due {due:%H:%M:%S})"
    too_late = [at for reason, at in seen_.skipped if reason == "too_late"]
    if count > 1 or len(seen_.sent_events) > 1:
        verdicts.wrong(f"{name}: sent {count} times, {len(seen_.sent_events)} NotificationSent")
        return
    if due <= confirmed_at or useful_until <= confirmed_at:
        verdicts.figures["too_late_when_booked"] += 1
        if count or not too_late:
            verdicts.wrong(
                f"{name}: due before it was confirmed, {count} sent, skips {seen_.skipped}"
            )
        return
    if not seen_.scheduled:
        if too_late and min(too_late) >= due and not count:
            verdicts.figures["too_late"] += 1  # the notifier had the confirmation once due
            return
        verdicts.wrong(f"{name}: never planned (skips {seen_.skipped}, {count} sent)")
        return
    verdicts.figures["planned"] += 1
    if due > now:
        if count:
            verdicts.wrong(f"{name}: sent before it was due")
        return
    if entry.cancelled_at is not None and entry.cancelled_at < due:
        verdicts.figures["cancelled_before_due"] += 1
        if count:
            verdicts.wrong(f"{name}: sent, though cancelled at {entry.cancelled_at:%H:%M:%S}")
        return
    verdicts.figures["due"] += 1
    if count and (seen_.sent_events or seen_.interrupted):
        verdicts.figures["sent"] += 1
    elif count:
        verdicts.wrong(f"{name}: sent, but no NotificationSent on the topic")
    elif seen_.interrupted:
        verdicts.figures["interrupted"] += 1
    elif entry.cancelled_at is not None and any(r == "cancelled" for r, _ in seen_.skipped):
        verdicts.figures["cancelled_once_due"] += 1
    elif too_late and min(too_late) >= useful_until:
        verdicts.figures["too_late"] += 1
    else:
        verdicts.wrong(f"{name}: never sent (skips {seen_.skipped})")


@dataclass
class ReminderCheck:
    """Waits until the classes' reminders are due and settled, then judges them all."""

    provider: ProviderSimulator
    notifier_url: str
    manager_token: str

    async def kinds(self) -> tuple[ReminderKind, ...]:
        headers = {"Authorization": f"Bearer {self.manager_token}"}
        async with httpx.AsyncClient(base_url=self.notifier_url, timeout=10) as http:
            answer = await http.get("/preferences", headers=headers)
            answer.raise_for_status()
            return parse_kinds(answer.json()["reminders"])

    async def violations(
        self, bootstrap: str, booking_events: list[Message], due: Iterable[datetime], timeout: float
    ) -> int:
        kinds = await self.kinds()
        bookings = booked(booking_events)
        last_due = max(due, default=datetime.now(UTC))
        wait = (last_due - datetime.now(UTC)).total_seconds() + 2
        if wait > 0:
            say(f"waiting {wait:.0f} s for the last class's reminders to fall due")
            await asyncio.sleep(wait)
        deadline = time.monotonic() + timeout
        while True:
            events = await read_all(bootstrap, NOTIFICATIONS_EVENTS, quiet_seconds=1)
            verdicts = judge(
                bookings, kinds, seen(events), provider_sent(self.provider), datetime.now(UTC)
            )
            if not verdicts.violations or time.monotonic() > deadline:
                break
            await asyncio.sleep(3)
        await asyncio.sleep(5)  # a reminder sent twice would come after
        events = await read_all(bootstrap, NOTIFICATIONS_EVENTS, quiet_seconds=1)
        verdicts = judge(
            bookings, kinds, seen(events), provider_sent(self.provider), datetime.now(UTC)
        )
        for name in (
            "planned",
            "due",
            "sent",
            "interrupted",
            "cancelled_before_due",
            "cancelled_once_due",
            "too_late",
            "too_late_when_booked",
            "moved",
        ):
            figure(f"chaos_reminders_{name}", str(verdicts.figures[name]))
        if verdicts.violations:
            say(f"reminders wrong ({len(verdicts.violations)}): {verdicts.violations[:20]}")
        return len(verdicts.violations)
