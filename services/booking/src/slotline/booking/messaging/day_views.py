"""A day's slot view (``SlotsChanged``) is read in two steps: its envelope at once, its
slots only for a day someone waits on.

Booking reads every day's view only for the waitlist, and most days have no line.
Validating a view's ~85 slots took 0.81 ms of booking's CPU a booking at 50 bookings/s
(measured in the process, by message type): the largest decode of the saga, for slots
that were then not looked at. The envelope (tenant, service, location, day, sequence)
is still validated first, so positions and the line to look for come from a checked
message; the slots are validated, with the same rules, when a line is found
(:meth:`UnreadDay.read`), and a view whose slots break them is refused then.
"""

from __future__ import annotations

import json
from typing import ClassVar, Self

from pydantic import PrivateAttr, ValidationError

from slotline.events.contract.availability import SlotsChanged
from slotline.events.contract.registry import parse_message
from slotline.events.envelope import Message
from slotline.events.topics import AVAILABILITY_EVENTS

_DAY_VIEW = f'"event_type":"{SlotsChanged.EVENT_TYPE}"'.encode()
"""How availability writes a view's type (compact JSON): a cheap first look. Any other
spelling is parsed whole, as before."""


class UnreadDay(SlotsChanged):
    """A ``SlotsChanged`` whose envelope is validated and whose ``slots`` are not read
    yet (empty here): :meth:`read` gives the whole message."""

    EVENT_TYPE: ClassVar[str] = SlotsChanged.EVENT_TYPE  # the same message, not a new one
    _raw: bytes = PrivateAttr(default=b"")

    @classmethod
    def of(cls, raw: bytes) -> Self | None:
        """The view without its slots; None if ``raw`` is not one this can read so (the
        caller parses it whole, with the contract's own error for what is wrong)."""
        try:
            data = json.loads(raw)
        except ValueError:
            return None
        if (
            not isinstance(data, dict)
            or data.get("event_type") != cls.EVENT_TYPE
            or data.get("schema_version") != cls.SCHEMA_VERSION
            or not isinstance(data.get("slots"), list)
        ):
            return None
        data["slots"] = []
        try:
            envelope = cls.model_validate(data)
        except ValidationError:
            return None
        envelope._raw = raw
        return envelope

    def read(self) -> SlotsChanged:
        """The whole message, slots validated (a ``ContractViolation`` says what is
        wrong)."""
        message = parse_message(AVAILABILITY_EVENTS, self._raw)
        assert isinstance(message, SlotsChanged)
        return message


def parse_record(topic: str, raw: bytes) -> Message:
    """Booking's parser: :func:`parse_message`, but a day's view is left unread."""
    if topic == AVAILABILITY_EVENTS and _DAY_VIEW in raw:
        unread = UnreadDay.of(raw)
        if unread is not None:
            return unread
    return parse_message(topic, raw)
