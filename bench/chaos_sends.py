"""The chaos run's one counter of sends: each subject (a missed call, a confirmed
booking) is sent exactly one message by the SMS provider — none lost, none doubled.

The notifier sends through the Twilio-compatible simulator served by the chaos process;
its record (``ProviderSimulator.accepted``) is what the customer got. A send cut off by
a ``kill -9`` (claimed, outcome unknown) is never sent again — at most once, so nobody
gets it twice — and is reported failed ("interrupted") on ``notifications.events.v1``
once the claim is older than any send takes (the stack runs with
``SLOTLINE_INTERRUPTED_AFTER_SECONDS=60``). A subject with no message and that report is
counted as interrupted, not as a violation; a subject with no message and no report, or
with two messages or more, is one; so is a message for a subject never expected.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Collection
from typing import Any

from outside import read_all
from support import say

from slotline.events.contract.notifications import NotificationFailed
from slotline.events.topics import NOTIFICATIONS_EVENTS
from slotline.notifier.simulator import ProviderSimulator


class SentOnce:
    """Messages the provider accepted per subject, and the subjects' interrupted sends.

    ``subject_of`` names the subject of an accepted message (``None``: not one of these
    sends); a ``NotificationFailed`` whose id is ``prefix + subject + suffix`` reports the
    subject's send; ``noun`` and ``what`` word the report (``callers``, ``text-back``).
    """

    def __init__(
        self,
        provider: ProviderSimulator,
        subjects: Collection[str],
        subject_of: Callable[[dict[str, Any]], str | None],
        *,
        prefix: str = "",
        suffix: str = "",
        noun: str,
        what: str,
        optional: Collection[str] = (),
    ) -> None:
        self.provider = provider
        self.subjects = subjects  # may grow while the run goes on (the callers)
        self.subject_of = subject_of
        self.prefix, self.suffix = prefix, suffix
        self.noun, self.what = noun, what
        self.optional = optional
        self.interrupted: set[str] = set()

    def sent(self) -> dict[str, int]:
        """Subject → messages the provider accepted for it."""
        counts: dict[str, int] = {}
        for message in self.provider.accepted:
            subject = self.subject_of(message)
            if subject is not None:
                counts[subject] = counts.get(subject, 0) + 1
        return counts

    async def settled(self, bootstrap: str, timeout: float) -> None:
        """Wait until every subject got its message or its send was reported interrupted
        (or ``timeout``), then a little more: a doubled message would come after."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            sent = self.sent()
            waiting = [s for s in self.subjects if not sent.get(s)]
            if waiting:
                self.interrupted = await self._interrupted(bootstrap)
            if all(s in self.interrupted for s in waiting):
                break
            await asyncio.sleep(2)
        await asyncio.sleep(5)

    async def _interrupted(self, bootstrap: str) -> set[str]:
        events = await read_all(bootstrap, NOTIFICATIONS_EVENTS, quiet_seconds=1)
        reported = (
            e.notification_id
            for e in events
            if isinstance(e, NotificationFailed) and "interrupted" in e.reason
        )
        return {
            n.removeprefix(self.prefix).removesuffix(self.suffix)
            for n in reported
            if n.startswith(self.prefix) and n.endswith(self.suffix)
        }

    def optional_unsent(self) -> int:
        """Optional subjects sent nothing."""
        sent = self.sent()
        return sum(1 for s in self.optional if not sent.get(s))

    def interrupted_count(self) -> int:
        sent = self.sent()
        return sum(1 for s in self.subjects if not sent.get(s) and s in self.interrupted)

    def violations(self) -> int:
        """Subjects with two messages or more, or none and no interrupted send; and
        messages for a subject never expected."""
        sent = self.sent()
        wrong = {
            s: sent.get(s, 0)
            for s in self.subjects
            if sent.get(s, 0) > 1 or (not sent.get(s) and s not in self.interrupted)
        }
        wrong |= {s: sent[s] for s in self.optional if sent.get(s, 0) > 1}
        stray = {s: n for s, n in sent.items() if s not in self.subjects and s not in self.optional}
        singular = self.noun.removesuffix("s")
        if wrong:
            say(f"{self.noun} without exactly one {self.what} ({singular}: messages): {wrong}")
        if stray:
            say(f"{self.what}s for {self.noun} never expected ({singular}: messages): {stray}")
        return len(wrong) + len(stray)
