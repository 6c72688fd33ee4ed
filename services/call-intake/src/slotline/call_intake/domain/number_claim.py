"""Which tenant a WhatsApp number belongs to: one at a time.

Meta signs a message's ``phone_number_id`` and the webhook routes on it, so two call
plans listing the same id would each take that number's messages posted to their own
URL. A claim per id (one stream for every tenant) makes the second plan wait for the
first to let the number go."""

from __future__ import annotations

from uuid import UUID

from eventsourcing.domain import Aggregate, event

from slotline.call_intake.domain.ids import derived_id


class NumberTaken(Exception):
    """The number is in another tenant's plan (409)."""


class NumberClaim(Aggregate):
    """The tenant whose plan lists a WhatsApp number (None: let go)."""

    @staticmethod
    def create_id(phone_number_id: str) -> UUID:
        return derived_id("whatsapp-number", "", phone_number_id)

    class Claimed(Aggregate.Created):
        phone_number_id: str
        tenant_id: str

    @event(Claimed)
    def __init__(self, phone_number_id: str, tenant_id: str) -> None:
        self.phone_number_id = phone_number_id
        self.tenant_id: str | None = tenant_id

    class Taken(Aggregate.Event):
        tenant_id: str

    @event(Taken)
    def _take(self, tenant_id: str) -> None:
        self.tenant_id = tenant_id

    class Released(Aggregate.Event):
        pass

    @event(Released)
    def _release(self) -> None:
        self.tenant_id = None

    def take(self, tenant_id: str) -> None:
        """This tenant's plan lists the number; :class:`NumberTaken` if another's does."""
        if self.tenant_id == tenant_id:
            return
        if self.tenant_id is not None:
            raise NumberTaken(
                f"WhatsApp phone_number_id {self.phone_number_id} is in another tenant's "
                "call plan: it must be removed there first"
            )
        self._take(tenant_id)

    def release(self, tenant_id: str) -> None:
        """The tenant's plan no longer lists it (another tenant's claim is left alone)."""
        if self.tenant_id == tenant_id:
            self._release()
