"""WhatsApp Cloud API webhook: verification GET, signed message POSTs."""

from __future__ import annotations

from typing import Annotated

import anyio
from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import PlainTextResponse
from pydantic import ValidationError

from slotline.call_intake.application import CustomerMessage
from slotline.call_intake.http.deps import Intake, Settings
from slotline.call_intake.whatsapp.payload import (
    Notification,
    customer_texts,
    signature_is_valid,
)
from slotline.events.http_contract import refusals

router = APIRouter(prefix="/v1/whatsapp/{tenant_id}", tags=["whatsapp"], responses=refusals(403))


@router.get("/webhook", response_class=PlainTextResponse)
def verify(
    tenant_id: str,
    settings: Settings,
    mode: Annotated[str, Query(alias="hub.mode")],
    token: Annotated[str, Query(alias="hub.verify_token")],
    challenge: Annotated[str, Query(alias="hub.challenge", max_length=200)],
) -> str:
    """Meta's subscription check: echo the challenge when the verify token matches."""
    expected = settings.whatsapp_verify_token.get_secret_value()
    if mode != "subscribe" or token != expected:
        raise HTTPException(403, "hub.mode must be subscribe and hub.verify_token must match")
    return challenge


@router.post("/webhook")
async def receive(
    tenant_id: str, request: Request, app: Intake, settings: Settings
) -> dict[str, int]:
    """Customer messages become leads or booking requests; repeats (same wamid) are dropped."""
    body = await request.body()
    secret = settings.whatsapp_app_secret.get_secret_value()
    if not signature_is_valid(secret, body, request.headers.get("x-hub-signature-256")):
        raise HTTPException(403, "missing or invalid X-Hub-Signature-256")
    try:
        notification = Notification.model_validate_json(body)
    except ValidationError as error:
        raise RequestValidationError(error.errors()) from None
    counts = {"booking": 0, "lead": 0, "duplicate": 0}
    for text in customer_texts(notification):
        message = CustomerMessage(tenant_id=tenant_id, **text.model_dump())
        counts[await anyio.to_thread.run_sync(app.customer_message, message)] += 1
    return counts
