"""Back from Stripe: ``stripe.confirmPayment`` sends the customer here with the
PaymentIntent they confirmed in the Payment Element. The booking request goes to
booking with that intent as its payment token (payments adopts it only after checking
it against its own records: opened by us for this tenant, the amount due, confirmed),
and the customer lands on the booking's status page — or back on the payment step
when the payment did not go through."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import Response

from slotline.web.domain.calendar import Slot
from slotline.web.http.booking_form import _booking_form, _start, answered
from slotline.web.http.deps import Web
from slotline.web.http.shop import Key, Tenant, shop
from slotline.web.sealed_details import DetailsSealer, DetailsUnreadable

router = APIRouter(tags=["booking page"])


@router.get("/{tenant}/{location}/{service}/book/paid")
async def paid(
    tenant: Tenant,
    location: Key,
    service: Key,
    request: Request,
    web: Web,
    payment_intent: Annotated[str, Query(pattern=r"^pi_[A-Za-z0-9_]+$", max_length=255)],
    request_id: Annotated[str, Query(min_length=1, max_length=128)],
    start: Annotated[str, Query(max_length=64)],
    details: Annotated[str, Query(min_length=1, max_length=8192)],
) -> Response:
    found = await shop(request, web, tenant, location, service)
    wanted = _start(start).astimezone(found.zone)
    slot = Slot(wanted, wanted + timedelta(minutes=found.service.duration_minutes), "available")
    try:
        typed = DetailsSealer(web.settings.web_session_secret.get_secret_value()).open(
            request_id, details
        )
    except DetailsUnreadable:
        raise HTTPException(
            422, "this payment link's booking details do not open: book again"
        ) from None
    if not typed.check():
        raise HTTPException(422, "your name and a phone or e-mail are missing: book again")
    answer = await web.services.booking.request(
        found.token,
        _booking_form(found, wanted, typed, request_id, payment_intent),
        request_id,
    )
    return await answered(request, web, found, slot, typed, request_id, answer)
