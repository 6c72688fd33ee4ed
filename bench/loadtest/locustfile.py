"""One customer session, as ``make loadtest`` runs it (Locust, headless).

A session lists the free slots of the clinic's service, books one through the public
booking endpoint (the booking link's channel), reads its status card through the
manage link, and sometimes cancels or moves it. Request names are the steps the load
test reports: ``slots``, ``book``, ``card``, ``change``. A 409 on ``book`` (the slot went
to someone else meanwhile) is an answer, not an error; any 5xx, timeout or unexpected
status is an error.

The sessions use Locust's ``FastHttpUser`` (geventhttpclient): the machine under test
also plays every customer, and this client costs about half the CPU of the
``requests``-based ``HttpUser`` (7.7 against 13.6 % of a core at 100 sessions).

Configured by environment variables set by ``bench/loadtest.py``; it tallies the
``book`` step's answers by status into ``LOADTEST_TALLY`` (a JSON file) when Locust quits,
so the load test can say how many bookings each run made, not only how fast it answered.
"""

from __future__ import annotations

import json
import os
import random
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

from locust import FastHttpUser, between, events, task

AVAILABILITY = os.environ["LOADTEST_AVAILABILITY_URL"]
BOOKING = os.environ["LOADTEST_BOOKING_URL"]
TENANT = os.environ["LOADTEST_TENANT"]
LOCATION = os.environ["LOADTEST_LOCATION_ID"]
SERVICE = os.environ["LOADTEST_SERVICE_ID"]
TOKEN = os.environ["LOADTEST_CHANNEL_TOKEN"]
HORIZON_DAYS = int(os.environ.get("LOADTEST_HORIZON_DAYS", "25"))
TALLY = os.environ.get("LOADTEST_TALLY", "")
BOOK_ANSWERS: Counter[str] = Counter()


def _tally(name: str, response: Any, exception: Any, **_: Any) -> None:
    if name == "book":
        BOOK_ANSWERS[str(response.status_code) if response is not None else "none"] += 1


def _write_tally(**_: Any) -> None:
    if TALLY:
        with open(TALLY, "w") as out:
            json.dump(BOOK_ANSWERS, out)


# Locust's event hooks carry no type hints.
events.request.add_listener(_tally)  # type: ignore[no-untyped-call]
events.quitting.add_listener(_write_tally)  # type: ignore[no-untyped-call]


class Customer(FastHttpUser):
    host = BOOKING
    wait_time = between(0.5, 2.0)

    def slots(self) -> list[dict[str, Any]]:
        start = datetime.now(UTC) + timedelta(days=random.randint(1, HORIZON_DAYS))
        params = {
            "location_id": LOCATION,
            "service_id": SERVICE,
            "from": start.isoformat(),
            "limit": "20",
        }
        with self.client.get(
            f"{AVAILABILITY}/v1/slots",
            params=params,
            headers={"Authorization": f"Bearer {TOKEN}"},
            name="slots",
            catch_response=True,
        ) as response:
            if response.status_code != 200:
                why = response.text[:200] if response.status_code else repr(response.error)
                response.failure(f"slots: {response.status_code} {why}")
                return []
            found: list[dict[str, Any]] = response.json()
            return [s for s in found if s.get("status") != "booked"]

    @task
    def session(self) -> None:
        free = self.slots()
        if not free:
            return
        slot = random.choice(free[:10])
        form = {
            "name": "Load Test",
            "phone": f"+30694{random.randint(0, 9_999_999):07d}",
            "service_id": SERVICE,
            "location_id": LOCATION,
            "start": slot["start"],
            "request_id": f"load-{uuid.uuid4().hex}",
        }
        with self.client.post(
            f"/v1/public/{TENANT}/bookings", json=form, name="book", catch_response=True
        ) as response:
            if response.status_code == 409:
                response.success()  # the slot went to someone else: an answer
                return
            if response.status_code not in (201, 202):
                response.failure(f"book: {response.status_code} {response.text[:200]}")
                return
            card = response.json()
        manage = card["manage_url"].rsplit("/v1/manage/", 1)[-1]
        with self.client.get(f"/v1/manage/{manage}", name="card", catch_response=True) as read:
            if read.status_code != 200:
                read.failure(f"card: {read.status_code} {read.text[:200]}")
                return
            confirmed = read.json().get("status") == "confirmed"
        if confirmed and random.random() < 0.3:
            self.change(manage)

    def change(self, manage: str) -> None:
        if random.random() < 0.5:
            path, body = f"/v1/manage/{manage}/cancel", {"reason": "plans changed"}
            wanted: tuple[int, ...] = (200,)
        else:
            later = self.slots()
            if not later:
                return
            path, body = f"/v1/manage/{manage}/reschedule", {"start": later[0]["start"]}
            wanted = (200, 202, 409)  # moved, under way, or the new slot went meanwhile
        with self.client.post(path, json=body, name="change", catch_response=True) as response:
            if response.status_code in wanted:
                response.success()  # a 409 here is an answer, not an error
            else:
                response.failure(f"change: {response.status_code} {response.text[:200]}")
