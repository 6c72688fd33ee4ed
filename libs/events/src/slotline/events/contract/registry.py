"""Every message type of the public contract, and parsing a raw record into one."""

from __future__ import annotations

import json
from collections.abc import Iterator

from pydantic import ValidationError

from slotline.events.contract import (
    availability,
    availability_commands,
    booking,
    booking_requests,
    calls,
    notifications,
    payments,
)
from slotline.events.envelope import Message

CONTRACT_MODULES = (
    availability,
    availability_commands,
    booking_requests,
    booking,
    payments,
    notifications,
    calls,
)


class ContractViolation(ValueError):
    """A record that does not fit the public contract; ``reason`` says how."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class UndecodableMessage(ContractViolation):
    """Not UTF-8 JSON, or not a JSON object."""


class UnknownMessageType(ContractViolation):
    """An event_type / schema_version this topic does not carry."""


class InvalidMessage(ContractViolation):
    """A known type whose fields break its schema."""


def _concrete_messages() -> Iterator[type[Message]]:
    for module in CONTRACT_MODULES:
        for value in vars(module).values():
            if (
                isinstance(value, type)
                and issubclass(value, Message)
                and value.__module__ == module.__name__
                and not value.ABSTRACT
            ):
                yield value


def _register() -> dict[tuple[str, int], type[Message]]:
    registry: dict[tuple[str, int], type[Message]] = {}
    for cls in _concrete_messages():
        key = (cls.EVENT_TYPE, cls.SCHEMA_VERSION)
        if key in registry:
            raise TypeError(f"message {key} defined twice: {registry[key]} and {cls}")
        if not cls.TOPIC:
            raise TypeError(f"{cls.__name__} names no topic")
        registry[key] = cls
    return registry


MESSAGES: dict[tuple[str, int], type[Message]] = _register()


def messages_on(topic: str) -> list[type[Message]]:
    """The message types ``topic`` carries, in definition order."""
    return [cls for cls in MESSAGES.values() if topic == cls.TOPIC]


def parse_message(topic: str, raw: bytes) -> Message:
    """Decode and validate one record of ``topic``; a ``ContractViolation`` says why not."""
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as error:
        raise UndecodableMessage(f"not JSON: {error}") from error
    if not isinstance(data, dict):
        raise UndecodableMessage(f"not a JSON object but a {type(data).__name__}")
    event_type, version = data.get("event_type"), data.get("schema_version")
    if not isinstance(event_type, str) or not isinstance(version, int):
        raise UnknownMessageType("event_type (string) and schema_version (integer) are required")
    cls = MESSAGES.get((event_type, version))
    if cls is None or topic != cls.TOPIC:
        known = ", ".join(f"{c.EVENT_TYPE} v{c.SCHEMA_VERSION}" for c in messages_on(topic))
        raise UnknownMessageType(
            f"{topic} carries no {event_type!r} v{version} (it carries: {known or 'nothing'})"
        )
    try:
        return cls.model_validate(data)
    except ValidationError as error:
        raise InvalidMessage(f"invalid {event_type} v{version}: {describe(error)}") from error


def describe(error: ValidationError) -> str:
    """One line per broken field: its path and the rule it breaks."""
    return "; ".join(
        f"{'.'.join(str(p) for p in e['loc']) or '(message)'}: {e['msg']}" for e in error.errors()
    )
