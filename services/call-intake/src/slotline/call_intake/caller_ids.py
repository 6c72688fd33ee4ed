"""Callers' ids: from their number keyed with the tenant's key
(:func:`~slotline.events.wire_sealing.pseudonym`), so an id is not recomputable from a
phone number by anyone without that key, and is found again from the pseudonym alone
(``CustomerErased`` carries it, never the number). The domain takes the id it is given.
"""

from __future__ import annotations

from uuid import UUID

from slotline.call_intake.domain.ids import derived_id
from slotline.events.wire_sealing import pseudonym


def caller_id(tenant_id: str, phone: str) -> UUID:
    return caller_id_of(tenant_id, pseudonym(tenant_id, phone))


def caller_id_of(tenant_id: str, phone_pseudonym: str) -> UUID:
    return derived_id("caller", tenant_id, phone_pseudonym)
