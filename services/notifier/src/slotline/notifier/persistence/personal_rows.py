"""The notifier's rows that hold personal data — a queued message's recipient, text
variables and calendar file, a booking card's name, number, address and manage link —
sealed under the person's key (the same vault, per-person keys and sealing as the
event stores: :mod:`slotline.events.privacy`). The person is named by a keyed pseudonym
of their number (else address), so ``CustomerErased``, which carries those pseudonyms,
destroys the right keys without ever naming the number."""

from __future__ import annotations

from typing import Any

from slotline.events.privacy.fields import WHOSE, open_sealed, seal
from slotline.events.privacy.personal import PersonalPaths
from slotline.events.privacy.vault import KeyVault
from slotline.events.wire_sealing import pseudonym

ERASED_OUTCOME = "not sent: the customer was erased"

NOBODY = "-"
"""The subject of a row with no recipient (nothing personal to erase by)."""


def person_of(row: dict[str, Any]) -> str:
    """The pseudonym of the row's number, else its address."""
    address = row.get("to_phone") or row.get("phone") or row.get("to_email") or row.get("email")
    return pseudonym(row["tenant_id"], str(address)) if address else NOBODY


MESSAGE = PersonalPaths(("to_phone", "to_email", "variables", "calendar"), person_of, "tenant_id")
CARD = PersonalPaths(
    ("customer_name", "phone", "email", "manage_url", "extra"), person_of, "tenant_id"
)


def sealed(row: dict[str, Any], paths: PersonalPaths, vault: KeyVault | None) -> dict[str, Any]:
    """The row to store (as it is where there is no vault: the in-memory rows of tests)."""
    return seal(row, paths, vault) if vault is not None else row


def opened(row: dict[str, Any], paths: PersonalPaths, vault: KeyVault | None) -> dict[str, Any]:
    """The stored row with its personal texts opened (``[erased]`` once erased)."""
    if vault is None or WHOSE not in row:
        return {k: v for k, v in row.items() if k != WHOSE}
    return open_sealed(dict(row), paths, vault)
