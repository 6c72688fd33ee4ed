"""Deterministic aggregate ids: a retried webhook or message finds what it made before."""

from __future__ import annotations

from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from slotline.events.wire_sealing import pseudonym

_ROOT = uuid5(NAMESPACE_URL, "https://slotline.dev/call-intake")


def derived_id(kind: str, tenant_id: str, key: str) -> UUID:
    """The id of the ``kind`` aggregate that ``key`` names in ``tenant_id``."""
    return uuid5(_ROOT, f"{kind}:{tenant_id}:{key}")


def caller_id(tenant_id: str, phone: str) -> UUID:
    """A caller's id: from their number keyed with the tenant's key (see
    :func:`~slotline.events.wire_sealing.pseudonym`), so it is not recomputable from a
    phone number by anyone without that key, and found again from the pseudonym alone
    (``CustomerErased`` carries it)."""
    return caller_id_of(tenant_id, pseudonym(tenant_id, phone))


def caller_id_of(tenant_id: str, phone_pseudonym: str) -> UUID:
    return derived_id("caller", tenant_id, phone_pseudonym)


def caller_subject(state: dict[str, Any], phone_field: str) -> str:
    """Whose personal data an event holds: the caller of the number in ``phone_field``."""
    return str(caller_id(state["tenant_id"], state[phone_field]))
