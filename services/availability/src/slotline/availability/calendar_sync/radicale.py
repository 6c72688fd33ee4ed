"""A real CalDAV server for tests and benchmarks: Radicale (PyPI, a dev dependency) in its
own process, with one user signing in by password, and the few calendar moves a test
makes as the calendar's owner would (create a calendar, add or delete an event)."""

from __future__ import annotations

import socket
import subprocess
import sys
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from caldav.davclient import DAVClient
from icalendar import Calendar, Event

from slotline.events.local.infra import free_port

USER, PASSWORD = "ana", "s3cret-calendar-pass"


class Radicale:
    """Radicale from PyPI, in its own process, with one user and htpasswd sign-in."""

    def __init__(self, root: Path) -> None:
        self.port = free_port()
        self.root = root
        (root / "users").write_text(f"{USER}:{PASSWORD}\n")
        (root / "config").write_text(
            "[server]\n"
            f"hosts = 127.0.0.1:{self.port}\n"
            "[auth]\ntype = htpasswd\n"
            f"htpasswd_filename = {root / 'users'}\n"
            "htpasswd_encryption = plain\n"
            "delay = 0\n"
            "[rights]\ntype = owner_only\n"
            f"[storage]\nfilesystem_folder = {root / 'collections'}\n"
            "[logging]\nlevel = warning\n"
        )
        self.process = subprocess.Popen(
            [sys.executable, "-m", "radicale", "--config", str(root / "config")],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def answers(self) -> bool:
        if self.process.poll() is not None:
            errors = self.process.stderr.read() if self.process.stderr else b""
            raise RuntimeError(f"radicale exited: {errors.decode(errors='replace')}")
        with socket.socket() as probe:
            return probe.connect_ex(("127.0.0.1", self.port)) == 0

    def client(self) -> DAVClient:
        return DAVClient(url=self.base_url, username=USER, password=PASSWORD)

    def new_calendar(self) -> str:
        """A fresh calendar collection; its URL."""
        with self.client() as client:
            principal: Any = client.principal()  # type: ignore[no-untyped-call]
            calendar = principal.make_calendar(cal_id=f"cal-{uuid.uuid4().hex[:8]}")
            return str(calendar.url)

    def add_event(
        self,
        calendar_url: str,
        uid: str,
        start: datetime,
        end: datetime,
        rrule: dict[str, Any] | None = None,
    ) -> None:
        cal = Calendar()
        cal.add("prodid", "-//test//EN")
        cal.add("version", "2.0")
        event = Event()
        event.add("uid", uid)
        event.add("dtstamp", datetime.now(UTC))
        event.add("dtstart", start)
        event.add("dtend", end)
        event.add("summary", "Dentist")
        if rrule:
            event.add("rrule", rrule)
        cal.add_component(event)
        with self.client() as client:
            _calendar(client, calendar_url).save_event(cal.to_ical().decode())

    def delete_event(self, calendar_url: str, uid: str) -> None:
        with self.client() as client:
            _calendar(client, calendar_url).event_by_uid(uid).delete()

    def events(self, calendar_url: str) -> list[Any]:
        """Every VEVENT in the calendar."""
        with self.client() as client:
            found = _calendar(client, calendar_url).events()
            return [
                component
                for resource in found
                for component in Calendar.from_ical(resource.data).walk("VEVENT")
            ]

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


def _calendar(client: DAVClient, url: str) -> Any:
    return client.calendar(url=url)  # type: ignore[no-untyped-call]
