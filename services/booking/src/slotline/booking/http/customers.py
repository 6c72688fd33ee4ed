"""Customers for the front desk: the record, found by phone or e-mail, and the
timeline of everything that happened with them."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, Field

from slotline.booking.application import UnknownBooking
from slotline.booking.application.customer_rights import CustomerRights
from slotline.booking.domain.contact import ContactDetails, InvalidContact
from slotline.booking.domain.customer import Customer
from slotline.booking.http.audit_points import CUSTOMER_CHANGE, CUSTOMER_LOOKUP, CUSTOMER_READ
from slotline.booking.http.deps import Bookings, Owner, Staff
from slotline.booking.http.forms import EMAIL
from slotline.booking.live import board
from slotline.events.contract.timeline import CustomerTimeline

router = APIRouter(prefix="/v1/customers", tags=["customers"])


def _record(customer: Customer) -> dict[str, Any]:
    return {"customer_id": str(customer.id), **customer.contact.to_data(), "caller": False}


@router.get("", dependencies=[CUSTOMER_LOOKUP])
def find(
    principal: Staff,
    app: Bookings,
    phone: Annotated[
        str | None, Query(max_length=40, description="With its country code (+30 …, 0030 …).")
    ] = None,
    email: Annotated[str | None, Query(max_length=254, pattern=EMAIL)] = None,
) -> dict[str, Any]:
    """The customer with this phone number (any format, a valid number) or e-mail address;
    one of the two is required (422 otherwise)."""
    try:
        contact = ContactDetails.normalised("lookup", phone, email)
    except InvalidContact as error:
        raise RequestValidationError(
            [{"loc": ("query", error.field), "type": "invalid_contact", "msg": str(error)}]
        ) from None
    found = app.directory.find(principal.tenant_id, contact.customer_key)
    if found is None:
        raise UnknownBooking("no customer with that phone or e-mail")
    return _record(app.customer(principal.tenant_id, found))


@router.get("/{customer_id}", dependencies=[CUSTOMER_READ])
def get(customer_id: UUID, principal: Staff, app: Bookings) -> dict[str, Any]:
    return _record(app.customer(principal.tenant_id, customer_id))


@router.get("/{customer_id}/timeline", dependencies=[CUSTOMER_READ])
def timeline(
    customer_id: UUID,
    principal: Staff,
    app: Bookings,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> CustomerTimeline:
    """Bookings, calls, callbacks, messages and payments, newest first. Someone who only
    called (the ``customer_id`` search gave them) has no record yet: their phone and the
    name a lead gave stand in for it (``caller``: true)."""
    schema = app.schema
    try:
        customer = app.customer(principal.tenant_id, customer_id)
    except UnknownBooking:
        customer = None
    with app.process_recorder.datastore.transaction(commit=False) as cursor:  # type: ignore[attr-defined]
        if customer is not None:
            record = _record(customer)
        else:
            found = board.caller(cursor, schema, principal.tenant_id, customer_id, app.read_seal)
            if found is None:
                raise UnknownBooking(f"no customer {customer_id}")
            record = {"customer_id": str(customer_id), **found, "email": None, "caller": True}
        lines = board.timeline(
            cursor,
            schema,
            principal.tenant_id,
            record["phone"],
            record["email"],
            limit,
            app.read_seal,
        )
    return CustomerTimeline.model_validate({**record, "timeline": lines})


class Erasure(BaseModel):
    customer_id: UUID
    erased_at: datetime = Field(description="When the customer was erased (the first time).")


@router.post("/{customer_id}/erasure", dependencies=[CUSTOMER_CHANGE])
def erase(customer_id: UUID, principal: Owner, app: Bookings) -> Erasure:
    """Erase the customer (GDPR Art. 17), owners only: their name, phone, e-mail and
    notes become unreadable in every stored copy (their key is destroyed) and read as
    ``[erased]``; their bookings and payments stay, with a placeholder for them; their
    timeline is deleted and ``CustomerErased`` tells the other services. Asking again
    answers the same. Cannot be undone."""
    erased_at = CustomerRights(app).erase(principal.tenant_id, customer_id)
    return Erasure(customer_id=customer_id, erased_at=erased_at)


@router.get("/{customer_id}/export", dependencies=[CUSTOMER_READ])
def export(customer_id: UUID, principal: Owner, app: Bookings) -> dict[str, Any]:
    """Everything kept about the customer (GDPR Art. 15 and 20), owners only: the
    record, every booking with its notes, consents and payments, and the timeline."""
    return CustomerRights(app).export(principal.tenant_id, customer_id)
