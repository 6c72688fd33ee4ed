"""Provider webhooks: inbound texts (consent keywords) and delivery status callbacks.

Both are signature-verified like Twilio's (``X-Twilio-Signature``) against the URL
the provider was given, ``SLOTLINE_PUBLIC_URL`` + the path.
"""

from __future__ import annotations

from urllib.parse import parse_qsl

import anyio
from fastapi import APIRouter, Depends, HTTPException, Request, Response
from fastapi.exceptions import RequestValidationError

from slotline.events.http_contract import refusals
from slotline.events.rate_limits import rate_limited_responses, webhooks_limited
from slotline.events.twilio_signature import signature_is_valid
from slotline.notifier.http.deps import Notifier
from slotline.notifier.outcomes import Outcomes

EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'


def providers_router(auth_token: str, public_url: str) -> APIRouter:
    router = APIRouter(
        prefix="/providers/twilio",
        tags=["providers"],
        dependencies=[Depends(webhooks_limited)],
        responses={**refusals(403), **rate_limited_responses()},
    )

    async def verified_form(request: Request) -> dict[str, str]:
        body = (await request.body()).decode(errors="replace")
        params = parse_qsl(body, keep_blank_values=True)
        url = public_url.rstrip("/") + request.url.path
        if request.url.query:
            url += f"?{request.url.query}"
        if not signature_is_valid(
            auth_token, url, params, request.headers.get("X-Twilio-Signature")
        ):
            raise HTTPException(403, "invalid or missing X-Twilio-Signature")
        return dict(params)

    def required(form: dict[str, str], *names: str) -> list[str]:
        missing = [n for n in names if not form.get(n)]
        if missing:
            raise RequestValidationError(
                [{"loc": ("body", n), "type": "missing", "msg": "Field required"} for n in missing]
            )
        return [form[n] for n in names]

    @router.post("/{tenant_id}/sms", summary="Inbound SMS (STOP, START, HELP …)")
    async def inbound_sms(tenant_id: str, request: Request, app: Notifier) -> Response:
        form = await verified_form(request)
        sender, receiver, sid = required(form, "From", "To", "MessageSid")
        await anyio.to_thread.run_sync(
            app.text_received, tenant_id, sender, receiver, form.get("Body", ""), sid
        )
        return Response(EMPTY_TWIML, media_type="text/xml")

    @router.post("/status", summary="Delivery status callback", status_code=204)
    async def status(request: Request, app: Notifier) -> Response:
        form = await verified_form(request)
        sid, state = required(form, "MessageSid", "MessageStatus")
        await anyio.to_thread.run_sync(
            Outcomes(app).delivery_reported, sid, state, form.get("ErrorCode")
        )
        return Response(status_code=204)

    return router
