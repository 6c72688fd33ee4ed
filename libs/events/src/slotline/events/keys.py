"""The key of a record, as each message type documents it (``Message.KEY``).

Consumers partition, compact and join on the Kafka key, so what it holds is part of the
contract: the key is always the envelope's ``aggregate_id``, and each type says what that
is — a template over its own fields (``reminders:{booking_id}``), or a sentence where it
is an id the payload does not repeat. Templates are checked against published records.
"""

from __future__ import annotations

from collections.abc import Iterable
from string import Formatter

from slotline.events.envelope import Message

KEY_LENGTH = 128
"""``aggregate_id``'s limit: a longer formatted key is cut to it."""


def template_fields(key: str) -> list[str]:
    """The fields a key template names; none for a sentence."""
    return [name for _, name, _, _ in Formatter().parse(key) if name]


def documented_key(message: Message) -> str | None:
    """The key ``message`` must have, or None where its type documents it in words."""
    names = template_fields(message.KEY)
    if not names:
        return None
    values = {name: str(getattr(message, name)) for name in names}
    return message.KEY.format(**values)[:KEY_LENGTH]


def misplaced_keys(records: Iterable[tuple[Message, bytes | None]]) -> list[str]:
    """Each published ``(message, record key)`` whose key is not what the contract says."""
    problems: list[str] = []
    for message, key in records:
        named = type(message).__name__
        if key is None or key.decode() != message.aggregate_id:
            problems.append(f"{named}: key {key!r} is not aggregate_id {message.aggregate_id!r}")
            continue
        expected = documented_key(message)
        if expected is not None and expected != message.aggregate_id:
            problems.append(
                f"{named}: aggregate_id {message.aggregate_id!r}, documented {expected!r}"
            )
    return problems
