"""Every message type of the public contract, and parsing a raw record into one."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from types import ModuleType
from typing import Any, NoReturn

from pydantic import ValidationError

from slotline.events.contract import (
    audit,
    availability,
    availability_catalog,
    availability_commands,
    booking,
    booking_requests,
    callbacks,
    calls,
    notifications,
    payments,
    waitlist,
)
from slotline.events.envelope import Message
from slotline.events.text import first_unstorable
from slotline.events.topics import ALL_TOPICS

CONTRACT_MODULES: tuple[ModuleType, ...] = (
    availability_catalog,
    availability,
    availability_commands,
    booking_requests,
    booking,
    waitlist,
    payments,
    notifications,
    calls,
    callbacks,
    audit,
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


def concrete_messages(modules: Iterable[ModuleType]) -> Iterator[type[Message]]:
    """The concrete message classes defined in ``modules`` (not imported ones)."""
    for module in modules:
        for value in vars(module).values():
            if (
                isinstance(value, type)
                and issubclass(value, Message)
                and value.__module__ == module.__name__
                and not value.ABSTRACT
            ):
                yield value


def register(classes: Iterable[type[Message]]) -> dict[tuple[str, int], type[Message]]:
    """Key every class by (event_type, schema_version); any ambiguity fails at import."""
    registry: dict[tuple[str, int], type[Message]] = {}
    for cls in classes:
        key = (cls.EVENT_TYPE, cls.SCHEMA_VERSION)
        if key in registry:
            raise TypeError(
                f"message {cls.EVENT_TYPE} v{cls.SCHEMA_VERSION} defined twice: "
                f"{registry[key].__qualname__} and {cls.__qualname__}"
            )
        if cls.TOPIC not in ALL_TOPICS:
            raise TypeError(f"{cls.__qualname__} names an unknown topic {cls.TOPIC!r}")
        if cls.SCHEMA_VERSION < 1:
            raise TypeError(f"{cls.__qualname__} has schema version {cls.SCHEMA_VERSION} < 1")
        registry[key] = cls
    return registry


MESSAGES: dict[tuple[str, int], type[Message]] = register(concrete_messages(CONTRACT_MODULES))


def messages_on(topic: str) -> list[type[Message]]:
    """The message types ``topic`` carries, in definition order."""
    return [cls for cls in MESSAGES.values() if topic == cls.TOPIC]


def _no_constants(name: str) -> NoReturn:
    raise ValueError(f"{name} is not JSON")


def _decode(raw: bytes) -> dict[str, Any]:
    try:
        data = json.loads(raw, parse_constant=_no_constants)
    except (ValueError, UnicodeDecodeError) as error:
        raise UndecodableMessage(f"not JSON: {error}") from error
    if not isinstance(data, dict):
        raise UndecodableMessage(f"not a JSON object but a {type(data).__name__}")
    return data


def _storable(message: Message, raw: bytes) -> Message:
    """``message`` unless text it keeps is text PostgreSQL cannot store; fields it ignores
    (a newer writer's, unknown to this reader) are never stored, so never refused."""
    if b"\\u" in raw:  # NUL and lone surrogates arrive only as JSON escapes
        found = first_unstorable(message.model_dump(mode="json"))
        if found is not None:
            where, reason = found
            raise InvalidMessage(f"{where}: {reason}")
    return message


def announced_class(topic: str, headers: Sequence[tuple[str, bytes]]) -> type[Message] | None:
    """The message class a record's headers name (``event_type``, ``schema_version``, as
    every Slotline publisher sets them), if it is one ``topic`` carries; None when they
    name none. It lets a consumer pass by a message none of its handlers takes without
    decoding it; the body is still the authority for every message that is handled."""
    event_type = version = None
    for name, value in headers:
        if name == "event_type":
            event_type = value
        elif name == "schema_version":
            version = value
    if event_type is None or version is None or not version.isdigit():
        return None
    try:
        return message_class(topic, event_type.decode(), int(version))
    except UnicodeDecodeError:
        return None


def message_class(topic: str, event_type: str, version: int) -> type[Message] | None:
    """The contract's class for this type and version, if ``topic`` carries it."""
    cls = MESSAGES.get((event_type, version))
    return cls if cls is not None and topic == cls.TOPIC else None


def parse_message(topic: str, raw: bytes) -> Message:
    """Decode and validate one record of ``topic``; a ``ContractViolation`` says why not."""
    cls, data = read_record(topic, raw)
    return validated(cls, data, raw)


def read_record(topic: str, raw: bytes) -> tuple[type[Message], dict[str, Any]]:
    """The message class a record's body names and the decoded body, not validated yet:
    the one place a body's ``event_type`` and ``schema_version`` become a class, so a
    consumer that reads some class differently dispatches on the class."""
    data = _decode(raw)
    event_type, version = data.get("event_type"), data.get("schema_version")
    if not isinstance(event_type, str) or type(version) is not int:
        raise UnknownMessageType("event_type (string) and schema_version (integer) are required")
    cls = message_class(topic, event_type, version)
    if cls is None:
        known = ", ".join(f"{c.EVENT_TYPE} v{c.SCHEMA_VERSION}" for c in messages_on(topic))
        raise UnknownMessageType(
            f"{topic} carries no {event_type!r} v{version} (it carries: {known or 'nothing'})"
        )
    return cls, data


def validated(cls: type[Message], data: dict[str, Any], raw: bytes) -> Message:
    """``data`` (decoded from ``raw``) validated as ``cls``."""
    try:
        message = cls.model_validate(data)
    except ValidationError as error:
        raise InvalidMessage(
            f"invalid {cls.EVENT_TYPE} v{cls.SCHEMA_VERSION}: {describe(error)}"
        ) from error
    return _storable(message, raw)


def describe(error: ValidationError) -> str:
    """One line per broken field: its path and the rule it breaks (never the value)."""
    return "; ".join(
        f"{'.'.join(str(p) for p in e['loc']) or '(message)'}: {e['msg']}" for e in error.errors()
    )
