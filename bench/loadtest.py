"""``make loadtest``: the launch load test — 30, 60 and 100 concurrent customer sessions.

Starts the local stack itself (embedded PostgreSQL and broker, every service as its own
process) with a clinic of its own — unless ``--booking-url`` and ``--availability-url``
point at a running one — then runs Locust headless (``bench/loadtest/locustfile.py``)
for each session count and prints, per count N::

    loadtest_<step>_p95_at_<N>_sessions: ... ms     (steps: slots, book, card, change)
    loadtest_errors_at_<N>_sessions: ...
    loadtest_requests_per_s_at_<N>_sessions: ...   (what the sessions got done)
    loadtest_cpu_at_<N>_sessions_<part>: ... % of a core   (each service, PostgreSQL,
        the broker, Locust: where the two cores went — the machine plays every customer)

    loadtest_book_answers_at_<N>_sessions: ...     (how many ``book`` steps were answered
        201 confirmed, 202 still under way after the endpoint's 3 s wait, 409 refused)
    loadtest_records_at_<N>_sessions_<topic>: ... messages/booking   (what each topic
        gained a confirmed booking: the records every service that reads it fetches)

and at the end, from the public topic and availability's API (bench/outside.py),
``loadtest_double_bookings`` and the load average.

Each session count books into a clinic of its own, opened empty at the start: the
clinic holds ~2,400 bookings in the 25 days the sessions look at, which the earlier
counts would fill, leaving the next count to race for the last slots (cheap refusals
instead of bookings, a different and lighter load than its number says).
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from datetime import time as clock_time
from datetime import timedelta
from pathlib import Path
from uuid import UUID

import httpx
from outside import double_bookings_now
from support import CpuMeter, TopicCounts, bench_stack, figure, infrastructure, say

from slotline.availability import demo
from slotline.availability.application import AvailabilityApplication
from slotline.events.auth import DEV_SECRET, TokenIssuer
from slotline.events.store import ensure_schema, postgres_env
from slotline.events.topics import ALL_TOPICS

TENANT = "loadtest"
SESSIONS = (30, 60, 100)
STEPS = ("slots", "book", "card", "change")
HERE = Path(__file__).parent


def token(role: str) -> str:
    return TokenIssuer(DEV_SECRET).mint(f"loadtest-{role}", TENANT, [role], timedelta(hours=2))


def run_locust(
    sessions: int, seconds: int, env: dict[str, str], out: Path
) -> tuple[dict[str, dict[str, str]], dict[str, int], float]:
    """One headless Locust run; its stats rows by request name, the ``book`` step's
    answers by status, and Locust's own CPU seconds (it has ended and been waited for:
    counted among this process's children, which the stack's services, still running,
    are not yet)."""
    prefix = out / f"at_{sessions}"
    tally = Path(f"{prefix}_book_answers.json")
    command = [
        str(Path(sys.executable).with_name("locust")),
        "-f",
        str(HERE / "loadtest" / "locustfile.py"),
        "--headless",
        "--users",
        str(sessions),
        "--spawn-rate",
        str(sessions),
        "--run-time",
        f"{seconds}s",
        "--csv",
        str(prefix),
        "--only-summary",
        "--loglevel",
        "WARNING",
    ]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    run_env = {**os.environ, **env, "LOADTEST_TALLY": str(tally)}
    subprocess.run(command, env=run_env, check=False, capture_output=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    locust_cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    rows: dict[str, dict[str, str]] = {}
    with open(f"{prefix}_stats.csv", newline="") as stats:
        for row in csv.DictReader(stats):
            rows[row["Name"]] = row
    failures = Path(f"{prefix}_failures.csv")
    if failures.is_file():  # what the errors were, not only how many
        with failures.open(newline="") as found:
            for row in csv.DictReader(found):
                say(f"{sessions} sessions: {row['Occurrences']} x {row['Name']}: {row['Error']}")
    answers: dict[str, int] = json.loads(tally.read_text()) if tally.is_file() else {}
    return rows, answers, locust_cpu


def report(sessions: int, rows: dict[str, dict[str, str]], answers: dict[str, int]) -> None:
    for step in STEPS:
        row = rows.get(step)
        value = f"{float(row['95%']):.0f} ms" if row and row["95%"] not in ("", "N/A") else "n/a"
        figure(f"loadtest_{step}_p95_at_{sessions}_sessions", value)
    errors = int(rows.get("Aggregated", {}).get("Failure Count", "0") or 0)
    figure(f"loadtest_errors_at_{sessions}_sessions", str(errors))
    rate = float(rows.get("Aggregated", {}).get("Requests/s", "0") or 0)
    figure(f"loadtest_requests_per_s_at_{sessions}_sessions", f"{rate:.1f} requests/s")
    counts = ", ".join(f"{answers.get(code, 0)} x {code}" for code in ("201", "202", "409"))
    others = sum(n for code, n in answers.items() if code not in ("201", "202", "409"))
    figure(f"loadtest_book_answers_at_{sessions}_sessions", f"{counts}, {others} other")


async def main(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory(prefix="loadtest-") as scratch:
        out = Path(scratch)
        if args.booking_url and args.availability_url:
            given = (UUID(args.location_id), UUID(args.service_id))
            where = dict.fromkeys(args.sessions, given)  # a running stack: its one clinic
            await run(args, args.booking_url, args.availability_url, args.bootstrap, out, {}, where)
            return
        async with infrastructure("loadtest") as (database_url, bootstrap, _):
            ensure_schema(database_url, "availability")
            catalog = AvailabilityApplication(env=postgres_env(database_url, "availability"))
            clinics = {
                sessions: demo.open_clinic(
                    catalog,
                    TENANT,
                    staff=8,
                    rooms=8,
                    opens=clock_time(7),
                    closes=clock_time(22),
                    horizon=timedelta(days=30),
                )
                for sessions in args.sessions
            }
            catalog.close()
            os.environ["SLOTLINE_DATABASE_URL"] = database_url
            os.environ["SLOTLINE_KAFKA_BOOTSTRAP"] = bootstrap
            stack = bench_stack(out / "stack")
            await asyncio.to_thread(stack.start)
            try:
                urls = {s.name: s.url for s in stack.services}
                for clinic in clinics.values():
                    await catalogue_reached_booking(urls["booking"], clinic.service_id)
                pids = {s.name: s.process.pid for s in stack.services if s.process is not None}
                where = {n: (c.location_id, c.service_id) for n, c in clinics.items()}
                await run(args, urls["booking"], urls["availability"], bootstrap, out, pids, where)
            finally:
                await asyncio.to_thread(stack.stop)


async def catalogue_reached_booking(booking_url: str, service_id: UUID) -> None:
    deadline = time.monotonic() + 120
    async with httpx.AsyncClient(base_url=booking_url, timeout=5) as http:
        while time.monotonic() < deadline:
            listing = (await http.get(f"/v1/public/{TENANT}/catalog")).json()
            services = (s["service_id"] for loc in listing for s in loc["services"])
            if str(service_id) in services:
                return
            await asyncio.sleep(0.5)
    raise TimeoutError("booking never learnt the load test's service")


async def run(
    args: argparse.Namespace,
    booking_url: str,
    availability_url: str,
    bootstrap: str,
    out: Path,
    pids: dict[str, int],
    where: dict[int, tuple[UUID, UUID]],
) -> None:
    """Each session count against its clinic: ``where`` maps it to (location, service)."""
    env = {
        "LOADTEST_BOOKING_URL": booking_url,
        "LOADTEST_AVAILABILITY_URL": availability_url,
        "LOADTEST_TENANT": TENANT,
        "LOADTEST_CHANNEL_TOKEN": token("channel"),
    }
    for sessions in args.sessions:
        say(f"{sessions} concurrent sessions for {args.seconds}s")
        location_id, service_id = where[sessions]
        env["LOADTEST_LOCATION_ID"], env["LOADTEST_SERVICE_ID"] = str(location_id), str(service_id)
        meter = CpuMeter(pids)
        meter.start()
        counts = TopicCounts(bootstrap, ALL_TOPICS) if bootstrap else None
        if counts is not None:
            await counts.start()
        began = time.monotonic()
        rows, answers, locust_cpu = await asyncio.to_thread(
            run_locust, sessions, args.seconds, env, out
        )
        report(sessions, rows, answers)
        if pids:  # the stack is ours: where its two cores went
            elapsed = time.monotonic() - began
            meter.report_share(f"loadtest_cpu_at_{sessions}_sessions", elapsed)
            share = f"{100 * locust_cpu / elapsed:.2f} % of a core"
            figure(f"loadtest_cpu_at_{sessions}_sessions_locust", share)
        if counts is not None and answers.get("201"):
            await counts.report(f"loadtest_records_at_{sessions}_sessions", answers["201"])
    if bootstrap:
        await asyncio.sleep(5)  # the last outcomes settle
        pairs = await double_bookings_now(bootstrap, availability_url, token("manager"))
        figure("loadtest_double_bookings", str(pairs))
    figure("load_average_1m", f"{os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--booking-url")
    parser.add_argument("--availability-url")
    parser.add_argument("--bootstrap", default="", help="Kafka, for the double-booking check.")
    parser.add_argument("--location-id", default="")
    parser.add_argument("--service-id", default="")
    parser.add_argument("--seconds", type=int, default=60, help="Per session count.")
    parser.add_argument("--sessions", type=int, nargs="+", default=list(SESSIONS))
    asyncio.run(main(parser.parse_args()))
