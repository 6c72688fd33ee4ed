"""The public contract: every message Slotline services exchange, grouped by topic."""

from slotline.events.contract.registry import (
    MESSAGES,
    ContractViolation,
    InvalidMessage,
    UndecodableMessage,
    UnknownMessageType,
    messages_on,
    parse_message,
)

__all__ = [
    "MESSAGES",
    "ContractViolation",
    "InvalidMessage",
    "UndecodableMessage",
    "UnknownMessageType",
    "messages_on",
    "parse_message",
]
