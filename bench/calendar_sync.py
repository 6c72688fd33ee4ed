"""Benchmark the calendar pull: an external change → the slot view showing it.

``calendar_pull_lag_p99``: an event is created in a linked CalDAV calendar (Radicale,
started here) → ``GET /v1/slots`` no longer offers that resource's slot. ``--links``
resources, each linked to its own calendar, get one event per ``--rounds`` round at
the same moment; the lag is bounded by ``SLOTLINE_CALENDAR_SYNC_INTERVAL_SECONDS``
(``--interval``; default the service's 30 s, the target is ≤ 60 s) plus the pull and
the slot projection. ``calendar_pull_lag_p50`` and ``_max`` beside it. Availability
runs as operators run it (api + projector processes) on embedded PostgreSQL and Tansu
unless ``SLOTLINE_DATABASE_URL`` / ``SLOTLINE_KAFKA_BOOTSTRAP`` are set.

    make bench-calendar                                # 20 links × 3 rounds, 30 s interval
    uv run python bench/calendar_sync.py --links 2 --rounds 1 --interval 1   # a smoke run
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from datetime import time as clock_time
from zoneinfo import ZoneInfo

import anyio
import httpx
import requests
from support import (
    availability_processes,
    figure,
    infrastructure,
    percentile,
    say,
)
from tenacity import retry, retry_if_exception_type, stop_after_attempt, wait_fixed

from slotline.availability import demo
from slotline.availability.application import AvailabilityApplication
from slotline.availability.calendar_sync.radicale import PASSWORD, USER, Radicale
from slotline.events.store import ensure_schema, postgres_env
from slotline.events.testing.service import bearer

ATHENS = ZoneInfo("Europe/Athens")


def seed(database_url: str, links: int) -> list[demo.Clinic]:
    """One clinic (one therapist, one room) per link, before the services start."""
    ensure_schema(database_url, "availability")
    app = AvailabilityApplication(env=postgres_env(database_url, "availability"))
    try:
        return [
            demo.open_clinic(app, f"bench-cal-{n}", staff=1, rooms=1, horizon=timedelta(days=14))
            for n in range(links)
        ]
    finally:
        app.close()


async def offered(client: httpx.AsyncClient, clinic: demo.Clinic, start: datetime) -> bool:
    response = await client.get(
        "/v1/slots",
        params={
            "location_id": str(clinic.location_id),
            "service_id": str(clinic.service_id),
            "resource_id": str(clinic.staff_ids[0]),
            "from": start.isoformat(),
            "until": (start + timedelta(minutes=1)).isoformat(),
        },
        headers=bearer("staff", clinic.tenant_id),
    )
    response.raise_for_status()
    return any(datetime.fromisoformat(s["start"]) == start for s in response.json())


def _put_again_if_reset(put: Callable[..., None]) -> Callable[..., None]:
    """Radicale, 20 calendars changed at once, reset a connection once (2026-12-04):
    the event is PUT again (same UID, so at most once); the lag counts from the PUT
    that returned."""
    return retry(
        retry=retry_if_exception_type(requests.ConnectionError),
        stop=stop_after_attempt(3),
        wait=wait_fixed(0.2),
        reraise=True,
    )(put)


async def lag_of(
    client: httpx.AsyncClient,
    radicale: Radicale,
    calendar_url: str,
    clinic: demo.Clinic,
    start: datetime,
    timeout: float,
) -> float:
    """Seconds from the event's creation in the calendar to the slot leaving the view."""
    uid = f"busy-{clinic.tenant_id}-{start:%Y%m%dT%H%M}"
    put = _put_again_if_reset(radicale.add_event)
    await anyio.to_thread.run_sync(put, calendar_url, uid, start, start + timedelta(hours=1))
    created = time.monotonic()
    while await offered(client, clinic, start):
        if time.monotonic() - created > timeout:
            raise TimeoutError(f"{clinic.tenant_id}: the slot is still offered after {timeout}s")
        await asyncio.sleep(0.2)
    return time.monotonic() - created


async def main(links: int, rounds: int, interval: float) -> None:
    async with infrastructure("calendar") as (database_url, bootstrap, tmp):
        clinics = await anyio.to_thread.run_sync(seed, database_url, links)
        (tmp / "radicale").mkdir()
        radicale = Radicale(tmp / "radicale")
        processes = availability_processes(
            database_url,
            bootstrap,
            tmp,
            env={
                "SLOTLINE_CALENDAR_SYNC_INTERVAL_SECONDS": str(interval),
                "SLOTLINE_CALENDAR_ALLOW_PRIVATE_ADDRESSES": "true",  # Radicale on loopback
            },
        )
        try:
            for process in processes:
                process.launch()
            for process in processes:
                await process.wait_ready()
            while not radicale.answers():
                await asyncio.sleep(0.1)
            api = processes[0]
            async with httpx.AsyncClient(base_url=api.base_url, timeout=30) as client:
                calendars = []
                for clinic in clinics:
                    url = await anyio.to_thread.run_sync(radicale.new_calendar)
                    response = await client.put(
                        f"/v1/resources/{clinic.staff_ids[0]}/calendar-link",
                        json={"url": url, "username": USER, "password": PASSWORD},
                        headers=bearer("manager", clinic.tenant_id),
                    )
                    response.raise_for_status()
                    calendars.append(url)
                day = (datetime.now(ATHENS) + timedelta(days=2)).date()
                first = datetime.combine(day, clock_time(10), ATHENS)
                for clinic in clinics:  # the view has the day before the first change
                    while not await offered(client, clinic, first):
                        await asyncio.sleep(0.2)
                lags: list[float] = []
                for n in range(rounds):
                    start = first + timedelta(hours=2 * n)
                    say(f"round {n + 1}/{rounds}: {links} calendars change at once")
                    lags += await asyncio.gather(
                        *(
                            lag_of(client, radicale, url, clinic, start, timeout=4 * interval + 60)
                            for clinic, url in zip(clinics, calendars, strict=True)
                        )
                    )
            figure("calendar_pull_lag_p50", f"{percentile(lags, 0.50):.1f} s")
            figure("calendar_pull_lag_p99", f"{percentile(lags, 0.99):.1f} s")
            figure("calendar_pull_lag_max", f"{max(lags):.1f} s")
            figure("calendar_pull_samples", f"{len(lags)}")
            figure("calendar_sync_interval", f"{interval:g} s")
        finally:
            for process in processes:
                process.stop()
                for line in process.log_summary()[:5]:
                    say(f"{process.log_path.name}: {line}")
            radicale.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--links", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--interval", type=float, default=30.0)
    arguments = parser.parse_args()
    asyncio.run(main(arguments.links, arguments.rounds, arguments.interval))
