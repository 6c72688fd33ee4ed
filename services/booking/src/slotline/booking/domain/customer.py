"""The customer record: one per tenant and normalised phone (or e-mail), so every
booking, call and message of one person meets on one timeline.

Its id is random (the customer directory finds it by phone or e-mail); its contact is
personal data, sealed under the customer's own key in the store, so erasing the
customer (:meth:`erase`, then the key destroyed) leaves placeholders in every replay."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from slotline.booking.domain.contact import ContactDetails
from slotline.events.privacy.personal import personal


class Customer(Aggregate):
    @classmethod
    def register(cls, customer_id: UUID, tenant_id: str, contact: ContactDetails) -> Customer:
        """A person met for the first time, under the id the directory gave them."""
        return cls._create(
            cls.Registered,
            id=customer_id,
            tenant_id=tenant_id,
            key=contact.customer_key,
            contact=contact.to_data(),
        )

    @personal("key", "contact", subject="originator_id")
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
        self.erased_at: datetime | None = None

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

    def _update_contact(self, contact: dict[str, Any]) -> None:
        self._contact_updated(self.tenant_id, contact)

    @personal("contact", subject="originator_id")
    class ContactUpdated(Aggregate.Event):
        """What is known of how to reach them changed (version 1 had no tenant: it was
        stored before personal fields were sealed)."""

        class_version = 2

        tenant_id: str
        contact: dict[str, Any]

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["tenant_id"] = ""

    @event(ContactUpdated)
    def _contact_updated(self, tenant_id: str, contact: dict[str, Any]) -> None:
        self.contact_data = contact

    def erase(self, at: datetime, phone_pseudonym: str | None, email_pseudonym: str | None) -> None:
        """Erasure (GDPR Art. 17): from now on the record is a placeholder; the service
        destroys the customer's key with it, so no copy in the store opens again. The
        pseudonyms (keyed digests, not the number or address) let other services find
        what they keep by number or address."""
        if self.erased_at is None:
            self._erased(at, phone_pseudonym, email_pseudonym)

    class Erased(Aggregate.Event):
        """The customer was erased: their personal data is unreadable from here on."""

        at: datetime
        phone_pseudonym: str | None
        email_pseudonym: str | None

    @event(Erased)
    def _erased(
        self, at: datetime, phone_pseudonym: str | None, email_pseudonym: str | None
    ) -> None:
        self.erased_at = at
