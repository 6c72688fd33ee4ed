"""Declaring where an event keeps personal data: pure, for domain modules (the store
seals what is declared: see :mod:`.fields`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

ERASED = "[erased]"
"""What a personal text reads as once its subject was erased."""

E = TypeVar("E", bound=type)


Subject = str | Callable[[dict[str, Any]], str]
"""Whose data it is: a dotted path into the event's state (``originator_id`` for the
aggregate itself), or a function of the state (a caller's id from their number)."""


@dataclass(frozen=True)
class PersonalPaths:
    """Where an event class keeps personal data, and whose it is."""

    fields: tuple[str, ...]
    subject: Subject
    tenant: str


def personal(*fields: str, subject: Subject, tenant: str = "tenant_id") -> Callable[[E], E]:
    """Class decorator: these dotted paths of the event's state are the personal data of
    ``subject`` in the tenant at the path ``tenant``. The store keeps whose and which
    tenant beside the sealed state, so reading needs neither."""

    def mark(cls: E) -> E:
        cls.__personal__ = PersonalPaths(fields, subject, tenant)  # type: ignore[attr-defined]
        return cls

    return mark


def paths_of(cls: type) -> PersonalPaths | None:
    found = getattr(cls, "__personal__", None)
    return found if isinstance(found, PersonalPaths) else None
