"""Booking references: short, human, unambiguous codes customers can read out
on the phone (``SLT-7K4QXM``). Uniqueness per tenant is enforced by claiming the code
as an aggregate saved in the booking's own transaction."""

from __future__ import annotations

from collections.abc import Callable
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

# No 0/O, 1/I/L: codes are read aloud and typed from paper.
ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
LENGTH = 6
REFERENCE_NAMESPACE = uuid5(NAMESPACE_URL, "https://slotline.dev/booking/reference")


def new_reference(choose: Callable[[str], str]) -> str:
    """A fresh code; ``choose`` picks one character (``secrets.choice`` in production)."""
    return "SLT-" + "".join(choose(ALPHABET) for _ in range(LENGTH))


def normalise_reference(text: str) -> str:
    """What a customer typed, as stored: upper case, spaces dropped, prefix added."""
    code = text.strip().upper().replace(" ", "").replace("-", "").removeprefix("SLT")
    return f"SLT-{code}"


class Claim(Aggregate):
    """A code taken by one booking — its reference or its idempotency key; a second
    claim of the same code in the same tenant conflicts."""

    @staticmethod
    def create_id(tenant_id: str, reference: str) -> UUID:
        return uuid5(REFERENCE_NAMESPACE, f"{tenant_id}:{reference}")

    class Claimed(Aggregate.Created):
        """The code is this booking's."""

        tenant_id: str
        reference: str
        booking_id: UUID

    @event(Claimed)
    def __init__(self, tenant_id: str, reference: str, booking_id: UUID) -> None:
        self.tenant_id = tenant_id
        self.reference = reference
        self.booking_id = booking_id
