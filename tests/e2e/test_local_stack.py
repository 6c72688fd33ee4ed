"""``make run``'s stack: six services green; a service or the broker killed with -9 comes
back while the rest keep running; then Ctrl-C leaves nothing running."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import psutil
import psycopg
import pytest
from psycopg import sql

pytestmark = pytest.mark.e2e

SERVICES = ("availability", "booking", "payments", "notifier", "call-intake", "analytics")


def read_until(process: subprocess.Popen[str], pattern: str, timeout: float) -> list[str]:
    assert process.stdout is not None
    seen: list[str] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            if process.poll() is not None:
                break
            continue
        seen.append(line.rstrip())
        if re.search(pattern, line):
            return seen
    raise AssertionError(f"never saw {pattern!r}; output:\n" + "\n".join(seen[-60:]))


def process_of(stack: subprocess.Popen[str], marker: str) -> psutil.Process:
    """The stack's child process whose command line mentions ``marker``."""
    for child in psutil.Process(stack.pid).children(recursive=True):
        if any(marker in part for part in child.cmdline()):
            return child
    raise AssertionError(f"no process of the stack runs {marker}")


def wait_ready(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            if httpx.get(f"{url}/readyz", timeout=5).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            raise AssertionError(f"{url} not ready again after {timeout}s")
        time.sleep(0.3)


def port_is_bound(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def every_table(database_url: str) -> dict[str, str]:
    """Every row of every table of every service's schema, as the database prints it
    (``bytea``, such as stored events, in hex): what a dump or a backup would show."""
    with psycopg.connect(database_url) as conn:
        tables = conn.execute(
            "SELECT schemaname, tablename FROM pg_tables"
            " WHERE schemaname NOT IN ('pg_catalog', 'information_schema')"
        ).fetchall()
        return {
            f"{schema}.{table}": "\n".join(
                row[0]
                for row in conn.execute(
                    sql.SQL("SELECT t::text FROM {} AS t").format(sql.Identifier(schema, table))
                )
            )
            for schema, table in tables
        }


def a_booking_leaves_no_personal_data_in_clear(
    booking_url: str, slot: dict[str, Any], database_url: str
) -> None:
    """Issue 17's check on the whole stack: after a public booking has gone through every
    service (booking, availability, payments, notifier, analytics), no table anywhere
    shows the customer's name, number, address or note, in text or in hex."""
    mark = uuid.uuid4().hex[:8]
    digits = f"69{int(mark, 16) % 10**8:08d}"
    person = {
        "name": f"Zelda Probe{mark}",
        "phone": f"+30{digits}",
        "email": f"zelda-{mark}@example.com",
        "notes": f"a sore shoulder {mark}",
    }
    answer = httpx.post(
        f"{booking_url}/v1/public/demo/bookings",
        json={**person, **{k: slot[k] for k in ("service_id", "location_id", "start")}},
        timeout=10,
    )
    assert answer.status_code == 201, answer.text
    booking_id = answer.json()["booking_id"]
    deadline = time.monotonic() + 60
    while True:  # until the notifier and analytics have it too
        tables = every_table(database_url)
        reached = {name.split(".")[0] for name, rows in tables.items() if booking_id in rows}
        if {"booking", "notifier", "analytics"} <= reached or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert {"booking", "notifier", "analytics"} <= reached, reached
    for text in (person["name"], digits, person["email"], person["notes"]):
        for name, rows in tables.items():
            assert text not in rows, f"{text!r} readable in {name}"
            assert text.encode().hex() not in rows, f"{text!r} readable (hex) in {name}"


def test_run_starts_every_service_ready_and_ctrl_c_stops_everything(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SLOTLINE_")}
    stack = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "slotline"),
            "run",
            "--data-dir",
            str(tmp_path / "data"),
            "--base-port",
            "0",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    try:
        output = read_until(stack, r"services ready in", timeout=120)
        rest = read_until(stack, r"Ctrl-C stops", timeout=10)
        text = "\n".join(output + rest)
        urls = dict(re.findall(r"\|\s+([a-z-]+)\s+(http://127\.0\.0\.1:\d+)\s", text))
        assert set(urls) == set(SERVICES)
        # The faces come first: the demo clinic's booking page and the console.
        banner = [line.split("|", 1)[-1].strip() for line in output + rest]
        start = next(i for i, line in enumerate(banner) if "services ready in" in line)
        page = re.match(r"booking page: (http://127\.0\.0\.1:\d+)(/demo\S*)", banner[start + 1])
        assert page is not None, banner[start : start + 3]
        assert banner[start + 2].startswith("console:")
        booking_page = httpx.get(page.group(1) + page.group(2), follow_redirects=True, timeout=10)
        assert booking_page.status_code == 200
        assert "60-min massage" in booking_page.text
        token = re.search(r"\|\s+(ey[\w-]+\.[\w-]+\.[\w-]+)", text)
        assert token is not None

        for url in urls.values():
            ready = httpx.get(f"{url}/readyz", timeout=5)
            assert ready.status_code == 200, ready.text
            assert ready.json()["checks"]["relay"]["ok"] is True
            metrics = httpx.get(f"{url}/metrics", timeout=5).text
            assert "slotline_relay_position" in metrics
            # start-up's objects are out of the collector's sight (slotline.events.heap)
            frozen = re.search(r"^slotline_gc_frozen_objects (\S+)$", metrics, re.MULTILINE)
            assert frozen is not None
            assert float(frozen.group(1)) > 50_000, url

        # A fresh stack has the demo clinic: its free slots are there to book.
        headers = {"Authorization": f"Bearer {token.group(1)}"}
        deadline = time.monotonic() + 30
        slots: list[dict[str, object]] = []
        while not slots and time.monotonic() < deadline:
            slots = httpx.get(f"{urls['availability']}/v1/slots", headers=headers, timeout=5).json()
            time.sleep(0.2)
        assert slots, "the demo clinic offers no slots"
        assert slots[0]["status"] == "available"
        database = re.search(r"\|\s+postgres\s+(postgresql://\S+)", text)
        assert database is not None
        a_booking_leaves_no_personal_data_in_clear(urls["booking"], slots[0], database.group(1))

        # Like an orchestrator: a killed service comes back, the others are untouched.
        victim, neighbour = (
            process_of(stack, "slotline.availability"),
            process_of(stack, "slotline.booking"),
        )
        victim.kill()
        read_until(stack, r"availability restarted", timeout=60)
        wait_ready(urls["availability"])
        assert process_of(stack, "slotline.booking").pid == neighbour.pid
        # The broker too: it comes back empty, topics are made again, relays re-publish.
        process_of(stack, "tansu").kill()
        read_until(stack, r"broker restarted empty", timeout=60)
        for url in urls.values():
            wait_ready(url)

        children = psutil.Process(stack.pid).children(recursive=True)
        assert len(children) >= len(SERVICES) + 1  # services + broker (+ postgres)
        ports = [int(u.rsplit(":", 1)[1]) for u in urls.values()]

        stack.send_signal(signal.SIGINT)
        stack.wait(timeout=60)
        assert stack.returncode == 0

        alive = [c for c in children if c.is_running() and c.status() != psutil.STATUS_ZOMBIE]
        assert alive == []
        assert not any(port_is_bound(p) for p in ports)
        pgdata = tmp_path / "data" / "postgres"
        assert (pgdata / "PG_VERSION").exists()  # the data stays for the next run
        assert not (pgdata / "postmaster.pid").exists()  # the server does not
    finally:
        if stack.poll() is None:  # a failed run: nothing it started may outlive the test
            for child in psutil.Process(stack.pid).children(recursive=True):
                child.kill()
            stack.kill()
