"""A day's slot view (``SlotsChanged``) is read in two steps: its envelope at once, its
slots only for a day someone waits on.

Booking reads every day's view only for the waitlist, and most days have no line.
Validating a view's ~85 slots took 0.81 ms of booking's CPU a booking at 50 bookings/s
(measured in the process, by message type): the largest decode of the saga, for slots
that were then not looked at. The envelope (tenant, service, location, day, sequence)
is still validated first, so positions and the line to look for come from a checked
message; the slots are validated, with the same rules, when a line is found
(:meth:`UnreadDay.read`), and a view whose slots break them is refused then. Which
class a record is comes from the contract's registry (``read_record``): a view is
recognised by its class, never by its name.
"""

from __future__ import annotations

from typing import Any, ClassVar, Self

from pydantic import PrivateAttr, ValidationError

from slotline.events.contract.availability import SlotsChanged
from slotline.events.contract.registry import read_record, validated
from slotline.events.envelope import Message


class UnreadDay(SlotsChanged):
    """A ``SlotsChanged`` whose envelope is validated and whose ``slots`` are not read
    yet (empty here): :meth:`read` gives the whole message."""

    EVENT_TYPE: ClassVar[str] = SlotsChanged.EVENT_TYPE  # the same message, not a new one
    _raw: bytes = PrivateAttr(default=b"")
    _data: dict[str, Any] = PrivateAttr(default_factory=dict)

    @classmethod
    def of(cls, data: dict[str, Any], raw: bytes) -> Self | None:
        """The view in ``data`` (decoded from ``raw``) without its slots; None if its
        envelope breaks the contract (the caller validates it whole, for the contract's
        own error)."""
        if not isinstance(data.get("slots"), list):
            return None
        try:
            envelope = cls.model_validate({**data, "slots": []})
        except ValidationError:
            return None
        envelope._raw, envelope._data = raw, data
        return envelope

    def read(self) -> SlotsChanged:
        """The whole message, slots validated (a ``ContractViolation`` says what is
        wrong)."""
        message = validated(SlotsChanged, self._data, self._raw)
        assert isinstance(message, SlotsChanged)
        return message


def parse_record(topic: str, raw: bytes) -> Message:
    """Booking's parser: the contract's, but a day's view is left unread."""
    cls, data = read_record(topic, raw)
    if issubclass(cls, SlotsChanged):
        unread = UnreadDay.of(data, raw)
        if unread is not None:
            return unread
    return validated(cls, data, raw)
