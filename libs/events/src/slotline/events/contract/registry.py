"""Registry of every message type, and parsing a raw record into its model."""

from __future__ import annotations

import json

from pydantic import ValidationError

from slotline.events.envelope import Message

MESSAGES: dict[tuple[str, int], type[Message]] = {}


class ContractViolation(ValueError):
    """A record that does not fit the public contract."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class UndecodableMessage(ContractViolation):
    """Not JSON, or not a JSON object."""


class UnknownMessageType(ContractViolation):
    """An event_type/schema_version this topic does not carry."""


class InvalidMessage(ContractViolation):
    """A known type whose fields break its schema."""


def register(cls: type[Message]) -> type[Message]:
    key = (cls.EVENT_TYPE, cls.SCHEMA_VERSION)
    if key in MESSAGES:
        raise ValueError(f"message {key} registered twice")
    MESSAGES[key] = cls
    return cls


def messages_on(topic: str) -> list[type[Message]]:
    return [cls for cls in MESSAGES.values() if topic == cls.TOPIC]


def parse_message(topic: str, raw: bytes) -> Message:
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as error:
        raise UndecodableMessage(f"not JSON: {error}") from error
    if not isinstance(data, dict):
        raise UndecodableMessage(f"not a JSON object but {type(data).__name__}")
    key = (str(data.get("event_type")), int(data.get("schema_version") or 0))
    cls = MESSAGES.get(key)
    if cls is None or topic != cls.TOPIC:
        raise UnknownMessageType(f"{topic} carries no event_type={key[0]!r} v{key[1]}")
    try:
        return cls.model_validate(data)
    except ValidationError as error:
        details = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in error.errors()
        )
        raise InvalidMessage(f"invalid {key[0]} v{key[1]}: {details}") from error
