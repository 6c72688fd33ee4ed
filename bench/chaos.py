"""Chaos run of the whole system on the local stack: a steady load while a scheduler
``kill -9``s a service every few seconds (each service at least twice) and restarts the
broker once, then, once quiet, invariants checked from the outside.

Load: booking requests over Kafka (as a partner channel; each for a free place of its
own; every fourth for a service whose policy asks a deposit, with the card network
simulator's approving token — see ``chaos_deposits.py``) and pairs of customers on the
public HTTP endpoint racing for one place (exactly one of each pair may win), and
participants of group classes whose 1 h reminders fall due during the run, every fourth
cancelling at once (``chaos_reminders.py``). The stack
supervises like an orchestrator: what is killed comes back with backoff; the broker comes
back empty and every relay publishes again.
The partner (this load) holds its requests while the broker is down, and once quiet sends
again, with the same request id, each request it published *before* the broker died that
got no answer: the broker lost it, unread, as a real partner would find (counted in
``chaos_requests_sent_again_after_broker_loss``). Requests sent after get no second try.

Prints ``chaos_kills``, ``chaos_requests``, one ``chaos_<invariant>_violations`` line per
invariant (goal 0 each), and ``chaos_recovery_p50`` / ``_p99`` (kill → that service
ready again). Invariants checked:

- ``lost_outcome`` — a request (Kafka or HTTP) with no final outcome
  (``BookingConfirmed`` / ``BookingRejected`` / ``BookingExpired``) on booking.events.v1;
- ``doubled_outcome`` — a request with two different final outcome events (a
  re-publication of the same event is not a double);
- ``double_booking`` — two allocations of one resource overlapping (buffers included);
- ``race_winners`` — a racing pair with two winners, or none though neither racer's
  saga expired (a kill longer than the saga's deadline may free the place: shown);
- ``held_left`` — a hold still ``held`` once every request is final;
- ``text_back`` — a missed caller (signed Twilio webhooks to call-intake, one call every
  1.5 s) with two messages or more accepted by the SMS provider, or none without a
  reported interrupted send (the notifier sends through a Twilio-compatible simulator
  served by this process; a send cut off by a kill is never repeated, at most once —
  counted in ``chaos_text_backs_interrupted``; see ``chaos_calls.py``);
- ``callback_task`` — a missed call with other than exactly one open callback task;
- ``ledger`` — a deposit booking whose ledger (payments' read API) does not balance: an
  operation still pending, more captured than asked or refunded than captured, money
  kept for a booking not confirmed or none held for a confirmed one, or the ledger
  unlike the card network simulator's record of the payment;
- ``double_charge`` — a booking with two live charges on the card network simulator, or
  a charge refunded twice;
- ``confirmation`` — a confirmed booking whose customer was sent other than exactly one
  confirmation by the SMS provider (told apart by the message's idempotency key, which
  names the booking), or none without a reported interrupted send (the text-backs'
  rules; counted in ``chaos_confirmations_interrupted``), or a confirmation of a booking
  never confirmed; a booking cancelled before its confirmation went may have none (a
  cancellation skips what is still waiting; ``chaos_confirmations_skipped_by_a_cancel``);
  see ``chaos_confirmations.py``;
- ``reminder`` — a reminder that fell due not sent exactly once (SMS provider's record and
  ``NotificationSent``; an interrupted send reported instead is counted apart), one sent
  for a booking cancelled before it was due, before it was due or when it was due before
  the booking was confirmed, or one never planned (``ReminderScheduled`` /
  ``ReminderSkipped``). Reminders fall due during the run for the participants of group
  classes starting a little over an hour ahead, in a clinic where it is midday (quiet
  hours); every fourth participant cancels. See ``chaos_reminders.py``;
- ``slot_view_rebuild``, ``booking_board_rebuild``, ``intake_view_rebuild`` — a row of
  availability's slot view (``slot_view`` slots a reader could still be offered,
  ``slot_day`` days, ``hold_view``), of booking's board (``booking_view``, its timeline
  lines) or of call-intake's read model (callback queue, call log, timelines, parties)
  unlike a rebuild from the service's event store by the projection's own class into a
  scratch schema, once all is final; revisions and ``computed_at`` are not compared; see
  ``chaos_views.py``;
- ``notifier_cards_rebuild``, ``analytics_facts_rebuild`` — a row of the notifier's booking
  cards or of analytics' fact tables unlike a rebuild from the public topics (and the
  partner's record of its requests) by the service's own code; a request the memory-only
  broker lost before analytics read it is counted apart
  (``chaos_analytics_requests_lost_with_broker``); see ``chaos_topic_views.py``.

Not (yet) checked here: refunds and fees (no deposit booking is cancelled or moved), moves,
and payments' own read models.

``python bench/chaos.py --seconds 300`` (``make chaos``); the test suite runs a 35 s
variant. Exit status 1 when any invariant is violated.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import random
import tempfile
import threading
import time
from collections import defaultdict
from collections.abc import Collection
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import uuid4

import httpx
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaConnectionError
from booking import TENANT, Slots, catalogue_reached_booking, open_clinics, request
from chaos_calls import TWILIO_AUTH_TOKEN, MissedCalls
from chaos_confirmations import confirmations_sent
from chaos_deposits import CARD, Deposits, ask_deposits, open_deposit_clinic
from chaos_reminders import STUDIOS, ClassLoad, ReminderCheck, open_class_studios
from chaos_topic_views import analytics_facts_violations, notifier_cards_violations
from chaos_views import projection_rebuild_violations
from outside import double_bookings_now, read_all
from support import bench_stack, figure, percentile, say

from slotline.events.auth import DEV_SECRET, TokenIssuer
from slotline.events.contract.booking import BookingConfirmed, BookingExpired, BookingRejected
from slotline.events.envelope import Message
from slotline.events.local.infra import free_port
from slotline.events.local.stack import SERVICES, LocalStack
from slotline.events.topics import (
    BOOKING_EVENTS,
    BOOKING_REQUESTS,
    CALLS_EVENTS,
    NOTIFICATIONS_EVENTS,
)
from slotline.notifier.simulator import ProviderSimulator, serving

FINAL = (BookingConfirmed, BookingRejected, BookingExpired)


def token(role: str) -> str:
    return TokenIssuer(DEV_SECRET).mint(f"chaos-{role}", TENANT, [role], timedelta(hours=2))


class Load:
    """What was asked, by request id, and which requests raced for one place."""

    def __init__(self) -> None:
        self.requests: list[str] = []
        self.deposits: set[str] = set()
        self.pairs: list[tuple[str, str]] = []
        self.sent_at: dict[str, float] = {}
        self.messages: dict[str, Any] = {}
        self.publishing = asyncio.Event()
        self.publishing.set()
        self.idle = asyncio.Event()
        self.idle.set()

    async def over_kafka(
        self, bootstrap: str, slots: Slots, deposit_slots: Slots, rate: float, until: float
    ) -> None:
        """Partner requests; every fourth for the deposit clinic, with a card token."""
        producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
        await producer.start()
        n = 0
        try:
            while time.monotonic() < until:
                await self.publishing.wait()
                n += 1
                if n % 4:
                    message = request(*slots.take())
                else:
                    message = request(*deposit_slots.take()).model_copy(
                        update={"payment_token": CARD}
                    )
                    self.deposits.add(message.request_id)
                self.idle.clear()
                try:
                    await producer.send_and_wait(
                        BOOKING_REQUESTS, message.to_json(), key=message.aggregate_id.encode()
                    )
                    self.requests.append(message.request_id)
                    self.sent_at[message.request_id] = time.monotonic()
                    self.messages[message.request_id] = message
                except Exception as error:  # the broker is down: a channel retries later
                    say(f"publish failed (broker restarting?): {error!r}")
                    await asyncio.sleep(1)
                finally:
                    self.idle.set()
                await asyncio.sleep(1 / rate)
        finally:
            await producer.stop()

    async def send_again(self, bootstrap: str, request_ids: list[str]) -> None:
        """What a channel does for requests a broker lost: the same request again (same
        request id: booking answers it once)."""
        producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
        await producer.start()
        try:
            for request_id in request_ids:
                message = self.messages[request_id]
                await producer.send_and_wait(
                    BOOKING_REQUESTS, message.to_json(), key=message.aggregate_id.encode()
                )
        finally:
            await producer.stop()

    async def races_over_http(self, booking_url: str, slots: Slots, until: float) -> None:
        async with httpx.AsyncClient(base_url=booking_url, timeout=30) as http:
            while time.monotonic() < until:
                clinic, start = slots.take()
                ids = (f"race-{uuid4().hex}", f"race-{uuid4().hex}")
                body = {
                    "service_id": str(clinic.service_id),
                    "location_id": str(clinic.location_id),
                    "start": start.isoformat(),
                    "staff_id": str(clinic.staff_ids[0]),  # one place: one winner
                }

                async def book(request_id: str, n: int, body: dict[str, Any] = body) -> bool:
                    person = {"name": f"Racer {n}", "phone": f"+3069{random.randrange(10**8):08d}"}
                    for _ in range(30):  # a customer taps again while the service restarts
                        try:
                            answer = await http.post(
                                f"/v1/public/{TENANT}/bookings",
                                json=body | person | {"request_id": request_id},
                            )
                            if answer.status_code < 500:
                                return True
                        except httpx.TransportError:
                            pass
                        await asyncio.sleep(1)
                    return False

                sent = await asyncio.gather(*(book(i, n) for n, i in enumerate(ids)))
                if all(sent):
                    self.requests.extend(ids)
                    self.pairs.append(ids)
                await asyncio.sleep(1)


class Chaos:
    """Kills a service every ``every`` seconds (each one at least twice) and the broker
    once, halfway; notes how long each victim took to be ready again."""

    def __init__(self, stack: LocalStack, every: float, load: Load) -> None:
        self.stack = stack
        self.every = every
        self.load = load
        self.broker_killed_at: float | None = None
        self.kills = 0
        self.recoveries: list[float] = []
        self.killed: list[tuple[float, str]] = []

    async def run(self, until: float) -> None:
        victims = [*SERVICES, *SERVICES]
        random.shuffle(victims)
        expected = int((until - time.monotonic()) / self.every)
        victims.insert(min(len(victims), expected) // 2, "broker")  # halfway through the run
        self.recovering: set[asyncio.Task[None]] = set()
        n = 0
        while time.monotonic() < until:
            await asyncio.sleep(self.every)
            victim = victims[n % len(victims)] if n < len(victims) else random.choice(SERVICES)
            n += 1
            if victim == "broker":
                await self._kill_broker()
                continue
            killed_at = time.monotonic()
            try:
                pid = self.stack.kill(victim)
            except (AssertionError, ProcessLookupError):
                continue  # still down from the last kill
            self.kills += 1
            self.killed.append((killed_at, victim))
            say(f"kill -9 {victim} (pid {pid})")
            task = asyncio.create_task(self._recovery(victim, killed_at))
            self.recovering.add(task)
            task.add_done_callback(self.recovering.discard)

    async def _kill_broker(self) -> None:
        """The partner holds its requests while the broker is down (none in flight at the
        kill: aiokafka would send a buffered one to the new broker before it has topics —
        see ``LocalStack._broker_restarted``), and goes on once its topics are back."""
        self.load.publishing.clear()
        await self.load.idle.wait()
        restarts = self.stack.broker_restarts
        self.broker_killed_at = time.monotonic()
        pid = self.stack.kill("broker")
        self.kills += 1
        self.killed.append((self.broker_killed_at, "broker"))
        say(f"kill -9 broker (pid {pid})")
        while self.stack.broker_restarts == restarts:
            await asyncio.sleep(0.1)
        self.recoveries.append(time.monotonic() - self.broker_killed_at)
        self.load.publishing.set()

    async def _recovery(self, victim: str, killed_at: float) -> None:
        url = next(s.url for s in self.stack.services if s.name == victim)
        async with httpx.AsyncClient(timeout=2) as http:
            await asyncio.sleep(0.5)  # the old process is gone before we ask
            while True:
                try:
                    if (await http.get(f"{url}/readyz")).status_code == 200:
                        self.recoveries.append(time.monotonic() - killed_at)
                        return
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.2)


def supervise(stack: LocalStack, stop: threading.Event, problems: list[str]) -> None:
    """What ``slotline run`` does in its loop: restart what died."""
    while not stop.wait(0.3):
        reason = stack.tick()
        if reason:
            problems.append(reason)
            return


async def all_ready(stack: LocalStack, timeout: float = 180) -> None:
    """Wait until every service answers /readyz 200: the last one killed may still be
    coming back when the load ends, and the invariants are read from their APIs."""
    deadline = time.monotonic() + timeout
    async with httpx.AsyncClient(timeout=5) as http:
        for service in stack.services:
            while time.monotonic() < deadline:
                try:
                    if (await http.get(f"{service.url}/readyz")).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.5)


def final_outcomes(events: list[Message]) -> dict[str, set[str]]:
    """Request id → the distinct final outcome events answering it."""
    answered: dict[str, set[str]] = defaultdict(set)
    for event in events:
        if isinstance(event, FINAL) and event.request_id:
            answered[event.request_id].add(str(event.event_id))
    return answered


def race_winner_violations(pairs: list[tuple[str, str]], events: list[Message]) -> int:
    """Racing pairs with other than one winner. None may win only when a racer's saga
    expired (no answer from availability within the deadline: a kill of availability or
    booking that long frees the place); each odd pair is shown with its outcomes."""
    outcomes: dict[str, list[Message]] = defaultdict(list)
    for event in events:
        if isinstance(event, FINAL) and event.request_id:
            outcomes[event.request_id].append(event)
    wrong = excused = 0
    for pair in pairs:
        answers = [outcomes.get(r, []) for r in pair]
        winners = sum(any(isinstance(e, BookingConfirmed) for e in a) for a in answers)
        expired = any(isinstance(e, BookingExpired) for a in answers for e in a)
        kinds = [[shown(e) for e in a] for a in answers]
        if winners == 1:
            continue
        if winners == 0 and expired:
            say(f"race {pair[0][:13]}: no winner, a racer's saga expired: {kinds}")
            excused += 1
            continue
        say(f"race {pair[0][:13]}: {winners} winners: {kinds}")
        wrong += 1
    figure("chaos_races_without_winner_after_an_expiry", str(excused))
    return wrong


def shown(outcome: Message) -> str:
    """An outcome as the log shows it: its type, with a rejection's reason."""
    if isinstance(outcome, BookingRejected) and outcome.reason:
        return f"{outcome.event_type}({outcome.reason})"
    return outcome.event_type


async def settle(
    bootstrap: str,
    asked: list[str],
    timeout: float,
    lost_with_broker: Collection[str] = (),
    stalled_after: float = 20,
) -> list[Message]:
    """The booking events once every request in ``asked`` has its outcome, or at
    ``timeout``. Requests sent before the broker died may have died with it (sent, not
    yet read): once only those are missing and no outcome has come for
    ``stalled_after`` seconds, waiting longer cannot help — the caller sends them again."""
    deadline = time.monotonic() + timeout
    maybe_lost = set(lost_with_broker)
    answered_count, progress_at = -1, time.monotonic()
    while True:
        try:
            events = await read_all(bootstrap, BOOKING_EVENTS, quiet_seconds=2)
        except KafkaConnectionError:  # the broker is still coming back
            await asyncio.sleep(2)
            continue
        answered = final_outcomes(events)
        missing = [r for r in asked if not answered.get(r)]
        if len(asked) - len(missing) != answered_count:
            answered_count, progress_at = len(asked) - len(missing), time.monotonic()
        stalled = (
            missing
            and maybe_lost.issuperset(missing)
            and time.monotonic() - progress_at > stalled_after
        )
        if not missing or stalled or time.monotonic() > deadline:
            say(f"settled: {answered_count} of {len(asked)} requests answered")
            return events
        await asyncio.sleep(3)


async def held_left(availability_url: str, timeout: float = 120) -> int:
    """Holds still held once quiet. A booking's outcome may be on Kafka before
    availability has confirmed its hold (where a ConfirmHold command follows it: a
    deposit; with nothing due the hold is confirmed as it is placed), so holds confirmed late
    — availability killed near the end — are waited for; a hold truly left would stay
    held for its whole TTL (10 minutes), longer than ``timeout``."""
    headers = {"Authorization": f"Bearer {token('manager')}"}
    deadline = time.monotonic() + timeout
    async with httpx.AsyncClient(base_url=availability_url, timeout=10) as http:
        while True:
            answer = await http.get(
                "/v1/holds", params={"status": "held", "limit": 1000}, headers=headers
            )
            answer.raise_for_status()
            held = answer.json()
            if not held or time.monotonic() > deadline:
                if held:
                    say(f"holds left held: {[h.get('hold_id') for h in held][:20]}")
                return len(held)
            await asyncio.sleep(3)


async def topic_view_violations(
    stack: LocalStack, load: Load, broker_killed_at: float | None
) -> dict[str, int]:
    """The read models fed by the public topics, each against a rebuild from the topics
    as they are now (and the partner's record of its requests; see
    ``chaos_topic_views.py``)."""
    booking_events, requests, calls, notifications = await asyncio.gather(
        *(
            read_all(stack.bootstrap, topic)
            for topic in (BOOKING_EVENTS, BOOKING_REQUESTS, CALLS_EVENTS, NOTIFICATIONS_EVENTS)
        )
    )
    published = [*requests, *load.messages.values()]
    before_the_broker_died = {
        r for r, at in load.sent_at.items() if broker_killed_at and at < broker_killed_at
    }
    facts, lost = await asyncio.to_thread(
        analytics_facts_violations,
        stack.database_url,
        [*booking_events, *published, *calls, *notifications],
        before_the_broker_died,
    )
    figure("chaos_analytics_requests_lost_with_broker", str(lost))
    return {
        "notifier_cards_rebuild": await asyncio.to_thread(
            notifier_cards_violations, stack.database_url, booking_events
        ),
        "analytics_facts_rebuild": facts,
    }


async def chaos(seconds: float, every: float, rate: float, out: Path) -> int:
    """Run the chaos; the number of invariant violations."""
    provider = ProviderSimulator(account_sid="AC_chaos", auth_token="chaos-provider-token")
    async with serving(provider, free_port()) as provider_url:
        return await _chaos(seconds, every, rate, out, provider, provider_url)


async def _chaos(
    seconds: float, every: float, rate: float, out: Path, provider: ProviderSimulator, url: str
) -> int:
    stack = bench_stack(
        out / "stack",
        ready_timeout=180,
        env={
            "SLOTLINE_PROVIDER_URL": url,
            "SLOTLINE_PROVIDER_ACCOUNT_SID": provider.account_sid,
            "SLOTLINE_PROVIDER_AUTH_TOKEN": provider.auth_token,
            "SLOTLINE_TWILIO_AUTH_TOKEN": TWILIO_AUTH_TOKEN,
            "SLOTLINE_INTERRUPTED_AFTER_SECONDS": "60",  # see chaos_calls.py
        },
    )
    await asyncio.to_thread(stack.start)
    stop, problems = threading.Event(), list[str]()
    supervisor = threading.Thread(target=supervise, args=(stack, stop, problems), daemon=True)
    supervisor.start()
    try:
        clinics = open_clinics(stack.database_url, 5)  # 4 for Kafka, 1 for the races
        deposit_clinic = open_deposit_clinic(stack.database_url)
        studios = open_class_studios(stack.database_url, TENANT, datetime.now(UTC))
        await catalogue_reached_booking(stack.database_url, len(clinics) + 1 + STUDIOS)
        urls = {s.name: s.url for s in stack.services}
        await ask_deposits(urls["booking"], token("manager"))
        deposits = Deposits(urls["payments"], token("manager"))
        calls = MissedCalls(urls["call-intake"], TENANT, token("manager"))
        await calls.set_up()
        load = Load()
        killer = Chaos(stack, every, load)
        class_load = ClassLoad(urls["booking"], TENANT, studios, token("manager"))
        until = time.monotonic() + seconds
        began = datetime.now(UTC)
        await asyncio.gather(
            load.over_kafka(
                stack.bootstrap, Slots(clinics[:4]), Slots([deposit_clinic]), rate, until
            ),
            # a clinic of their own: a Kafka request never takes the racers' place
            load.races_over_http(urls["booking"], Slots(clinics[4:]), until),
            calls.run(every=1.5, until=until),
            class_load.run(until),
            killer.run(until),
        )
        load.requests.extend(class_load.requests)
        say(f"load over after {(datetime.now(UTC) - began).total_seconds():.0f}s; settling")
        await all_ready(stack)
        sent_before_broker_died = {
            r
            for r in load.messages
            if killer.broker_killed_at is not None and load.sent_at[r] < killer.broker_killed_at
        }
        events = await settle(
            stack.bootstrap, load.requests, timeout=90, lost_with_broker=sent_before_broker_died
        )
        answered = final_outcomes(events)
        lost_with_broker = [r for r in sent_before_broker_died if not answered.get(r)]
        if lost_with_broker:  # on the old broker, not yet read when it died empty
            say(f"sending {len(lost_with_broker)} requests the restarted broker lost again")
            await load.send_again(stack.bootstrap, lost_with_broker)
            events = await settle(stack.bootstrap, load.requests, timeout=120)
            answered = final_outcomes(events)
        await all_ready(stack)  # a restart late in the run: the APIs answer again
        violations = {
            "lost_outcome": sum(1 for r in load.requests if not answered.get(r)),
            "doubled_outcome": sum(1 for r in load.requests if len(answered.get(r, ())) > 1),
            "double_booking": await double_bookings_now(
                stack.bootstrap, urls["availability"], token("manager")
            ),
            "race_winners": race_winner_violations(load.pairs, events),
            "held_left": await held_left(urls["availability"]),
        }
        text_backs = calls.text_backs(provider)
        await text_backs.settled(stack.bootstrap, timeout=150)
        violations["text_back"] = text_backs.violations()
        violations["callback_task"] = await calls.callback_task_violations()
        confirmations = confirmations_sent(provider, events)
        await confirmations.settled(stack.bootstrap, timeout=150)
        violations["confirmation"] = confirmations.violations()
        deposits.requests = load.deposits & set(load.requests)
        (
            violations["ledger"],
            violations["double_charge"],
        ) = await deposits.violations(stack.database_url, events)
        violations |= await asyncio.to_thread(projection_rebuild_violations, stack.database_url)
        violations |= await topic_view_violations(stack, load, killer.broker_killed_at)
        # last: the last class's reminders fall due up to 45 s after the load
        reminders = ReminderCheck(provider, urls["notifier"], token("manager"))
        violations["reminder"] = await reminders.violations(
            stack.bootstrap, events, class_load.due, timeout=150
        )
        lost = [r for r in load.requests if not answered.get(r)]
        if lost:
            start = min(load.sent_at.values(), default=0.0)
            say(f"kills at: {[(round(t - start, 1), v) for t, v in killer.killed]}")
            sent = sorted(round(load.sent_at[r] - start, 1) for r in lost if r in load.sent_at)
            say(f"lost requests sent at (s into the run): {sent}")
            say(f"lost racing requests (HTTP): {sum(1 for r in lost if r not in load.sent_at)}")
            say(f"lost request ids: {lost}")
        figure("chaos_kills", str(killer.kills))
        figure("chaos_requests", str(len(load.requests)))
        figure("chaos_races", str(len(load.pairs)))
        figure("chaos_missed_calls", str(len(calls.callers)))
        figure("chaos_text_backs_interrupted", str(text_backs.interrupted_count()))
        figure("chaos_deposit_requests", str(len(deposits.requests)))
        figure(
            "chaos_confirmations", str(len(confirmations.subjects) + len(confirmations.optional))
        )
        figure("chaos_confirmations_skipped_by_a_cancel", str(confirmations.optional_unsent()))
        figure("chaos_confirmations_interrupted", str(confirmations.interrupted_count()))
        figure("chaos_requests_sent_again_after_broker_loss", str(len(lost_with_broker)))
        figure("chaos_class_participants", str(len(class_load.requests)))
        figure("chaos_class_cancels", str(dict(class_load.cancels)))
        for name, count in violations.items():
            figure(f"chaos_{name}_violations", str(count))
        if killer.recoveries:
            figure("chaos_recovery_p50", f"{percentile(killer.recoveries, 0.5):.1f} s")
            figure("chaos_recovery_p99", f"{percentile(killer.recoveries, 0.99):.1f} s")
        if problems:
            say(f"the stack stopped itself: {problems}")
        return sum(violations.values()) + len(problems)
    finally:
        stop.set()
        supervisor.join(timeout=5)
        await asyncio.to_thread(stack.stop)


def main() -> int:
    logging.getLogger("aiokafka").setLevel(logging.CRITICAL)  # the broker's restart is planned
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=300, help="how long the load runs")
    parser.add_argument("--kill-every", type=float, default=6, help="seconds between kills")
    parser.add_argument("--rate", type=float, default=4, help="Kafka requests per second")
    parser.add_argument("--keep", type=Path, help="keep the stack's data and logs here")
    args = parser.parse_args()
    if args.keep:
        violations = asyncio.run(chaos(args.seconds, args.kill_every, args.rate, args.keep))
        return 1 if violations else 0
    with tempfile.TemporaryDirectory(prefix="slotline-chaos-") as scratch:
        violations = asyncio.run(chaos(args.seconds, args.kill_every, args.rate, Path(scratch)))
    return 1 if violations else 0


if __name__ == "__main__":
    raise SystemExit(main())
