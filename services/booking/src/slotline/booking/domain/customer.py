"""The customer record: one per tenant and normalised phone (or e-mail), so every
booking, call and message of one person meets on one timeline."""

from __future__ import annotations

from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from slotline.booking.domain.contact import ContactDetails

CUSTOMER_NAMESPACE = uuid5(NAMESPACE_URL, "https://slotline.dev/booking/customer")


def customer_id_for(tenant_id: str, contact: ContactDetails) -> UUID:
    return Customer.create_id(tenant_id, contact.customer_key)


def caller_id_for(tenant_id: str, phone: str) -> UUID:
    """The id a caller's record has (or will have, once they book) by their E.164 phone."""
    return customer_id_for(tenant_id, ContactDetails(name="caller", phone=phone))


class Customer(Aggregate):
    @staticmethod
    def create_id(tenant_id: str, key: str) -> UUID:
        return uuid5(CUSTOMER_NAMESPACE, f"{tenant_id}:{key}")

    class Registered(Aggregate.Created):
        """A person met for the first time (by phone or e-mail)."""

        tenant_id: str
        key: str
        contact: dict[str, Any]

    @event(Registered)
    def __init__(self, tenant_id: str, key: str, contact: dict[str, Any]) -> None:
        self.tenant_id = tenant_id
        self.key = key
        self.contact_data = contact

    @property
    def contact(self) -> ContactDetails:
        return ContactDetails.from_data(self.contact_data)

    def learn(self, contact: ContactDetails, vouched: bool = False) -> None:
        """Fill in a missing phone or e-mail; a contact the front desk vouches for also
        replaces the name and e-mail. Anyone can type a phone number into the booking
        page: an anonymous request never renames a customer or redirects their mail."""
        known = self.contact
        merged = ContactDetails(
            name=contact.name if vouched else known.name,
            phone=known.phone or contact.phone,
            email=(contact.email or known.email) if vouched else (known.email or contact.email),
            language=contact.language if vouched else known.language,
        )
        if merged != known:
            self._update_contact(merged.to_data())

    class ContactUpdated(Aggregate.Event):
        """What is known of how to reach them changed."""

        contact: dict[str, Any]

    @event(ContactUpdated)
    def _update_contact(self, contact: dict[str, Any]) -> None:
        self.contact_data = contact
