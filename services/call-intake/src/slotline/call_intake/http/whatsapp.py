"""WhatsApp Cloud API webhook: verification GET, signed message POSTs.

A POST is taken in this order, and nothing is recorded until every step has passed:

1. the body is capped before it is read (1 MB, ``slotline.events.body_limit``, 413);
2. ``X-Hub-Signature-256`` is checked on the raw bytes before they are parsed (403);
3. the payload is parsed (422 naming the field);
4. every message must have been sent to one of the tenant's WhatsApp numbers, by the
   ``phone_number_id`` inside the signed body — not the URL (403, nothing recorded);
5. each message sent longer ago than ``SLOTLINE_WHATSAPP_MAX_AGE_SECONDS`` is *stale*:
   counted in the answer, logged and on ``slotline_whatsapp_refused_total``, not taken.

Why the two refusals answer differently: Meta redelivers any non-2xx for days. A
payload for a number the tenant's plan does not (yet) list gets a 403, so Meta keeps it
until the plan is fixed and nothing is lost. A stale message only grows staler with
every retry, so it gets a 200 with ``stale`` counted: retrying could never succeed.
"""

from __future__ import annotations

import hmac
from datetime import timedelta
from typing import Annotated
from weakref import WeakKeyDictionary

import anyio
from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import PlainTextResponse
from prometheus_client import CollectorRegistry, Counter
from pydantic import ValidationError

from slotline.call_intake.http.deps import Intake, Settings
from slotline.call_intake.whatsapp.admission import ForeignNumber, check_addressed_to, is_stale
from slotline.call_intake.whatsapp.payload import (
    Notification,
    customer_texts,
    signature_is_valid,
)
from slotline.events.http_contract import refusals
from slotline.events.logs import get_logger
from slotline.events.rate_limits import rate_limited_responses, webhooks_limited

router = APIRouter(
    prefix="/v1/whatsapp/{tenant_id}",
    tags=["whatsapp"],
    dependencies=[Depends(webhooks_limited)],
    responses={**refusals(403), **rate_limited_responses()},
)
log = get_logger(__name__)

_refusals: WeakKeyDictionary[CollectorRegistry, Counter] = WeakKeyDictionary()


def refused(request: Request) -> Counter:
    """``slotline_whatsapp_refused_total{reason}`` on this service's registry."""
    registry: CollectorRegistry = request.app.state.runtime.registry
    if registry not in _refusals:
        _refusals[registry] = Counter(
            "slotline_whatsapp_refused",
            "WhatsApp messages not taken (foreign_number: payload refused; stale: too old)",
            ["reason"],
            registry=registry,
        )
    return _refusals[registry]


@router.get("/webhook", response_class=PlainTextResponse)
def verify(
    tenant_id: str,
    settings: Settings,
    mode: Annotated[str, Query(alias="hub.mode")],
    token: Annotated[str, Query(alias="hub.verify_token")],
    challenge: Annotated[str, Query(alias="hub.challenge", max_length=200)],
) -> str:
    """Meta's subscription check: echo the challenge when the verify token matches.

    The token is a secret: compared in constant time, and a failure does not say which
    part was wrong."""
    expected = settings.whatsapp_verify_token.get_secret_value().encode()
    matches = hmac.compare_digest(token.encode(), expected)
    if mode != "subscribe" or not matches:
        raise HTTPException(403, "verification failed")
    return challenge


@router.post("/webhook")
async def receive(
    tenant_id: str, request: Request, app: Intake, settings: Settings
) -> dict[str, int]:
    """Customer messages become leads or booking requests; repeats (same wamid) are
    dropped, stale ones counted and not taken; a message to another tenant's number
    refuses the whole payload (403)."""
    body = await request.body()
    secret = settings.whatsapp_app_secret.get_secret_value()
    if not signature_is_valid(secret, body, request.headers.get("x-hub-signature-256")):
        raise HTTPException(403, "missing or invalid X-Hub-Signature-256")
    try:
        notification = Notification.model_validate_json(body)
    except ValidationError as error:
        raise RequestValidationError(error.errors()) from None
    plan = await anyio.to_thread.run_sync(app.plan_or_none, tenant_id)
    try:
        check_addressed_to(notification, plan.whatsapp_number_ids() if plan else frozenset())
    except ForeignNumber as foreign:
        refused(request).labels("foreign_number").inc()
        log.warning(
            "whatsapp payload for another number refused",
            tenant_id=tenant_id,
            phone_number_id=foreign.phone_number_id,
        )
        raise HTTPException(403, str(foreign)) from None
    now, max_age = app.clock(), timedelta(seconds=settings.whatsapp_max_age_seconds)
    counts = {"booking": 0, "lead": 0, "duplicate": 0, "stale": 0}
    for message in customer_texts(notification, tenant_id):
        if is_stale(message.sent_at, now, max_age):
            counts["stale"] += 1
            refused(request).labels("stale").inc()
            age = int((now - message.sent_at).total_seconds())
            log.warning(
                "stale whatsapp message not taken",
                tenant_id=tenant_id,
                message_id=message.message_id,
                age_seconds=age,
            )
            continue
        counts[await anyio.to_thread.run_sync(app.customer_message, message)] += 1
    return counts
