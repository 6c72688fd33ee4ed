"""``POST /v1/payment-intents``: a PaymentIntent for the booking page's Payment Element,
opened before the booking request is sent (the customer's browser confirms it with
Stripe.js; the client secret goes to that browser only)."""

from __future__ import annotations

from typing import Annotated

import anyio
from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from slotline.payments.gateway.port import IntentToOpen
from slotline.payments.http.card_guard import refuse_card_numbers
from slotline.payments.http.deps import Payments, Shopper

router = APIRouter(
    prefix="/v1/payment-intents",
    tags=["payment intents"],
    dependencies=[Depends(refuse_card_numbers)],
)


class IntentIn(BaseModel):
    request_id: Annotated[
        str,
        Field(
            min_length=1,
            max_length=128,
            pattern=r"^[A-Za-z0-9_.:-]+$",
            description="The booking request it pays for; a repeat opens the same intent.",
        ),
    ]
    amount_minor: Annotated[int, Field(ge=1, le=100_000_000, description="What is due now.")]
    currency: Annotated[str, Field(pattern=r"^[A-Z]{3}$", description="ISO 4217, e.g. EUR.")]


class IntentOut(BaseModel):
    payment_intent_id: str
    client_secret: str = Field(description="For Stripe.js in the customer's browser only.")


@router.post("", status_code=201, response_model=IntentOut)
async def open_intent(body: IntentIn, app: Payments, caller: Shopper) -> IntentOut:
    """Open a PaymentIntent (manual capture) for ``amount_minor`` of ``currency``."""
    intent = IntentToOpen(
        tenant_id=caller.tenant_id,
        request_id=body.request_id,
        amount_minor=body.amount_minor,
        currency=body.currency,
        description=f"Slotline booking request {body.request_id}",
    )
    key = f"open-intent:{caller.tenant_id}:{body.request_id}:{body.amount_minor}:{body.currency}"
    opened = await anyio.to_thread.run_sync(app.gateway.open_intent, intent, key)
    return IntentOut(payment_intent_id=opened.payment_intent_id, client_secret=opened.client_secret)
