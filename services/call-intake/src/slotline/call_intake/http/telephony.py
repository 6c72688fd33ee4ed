"""Twilio-compatible voice webhooks: signed form posts in, TwiML out.

Configure the number's voice URL as ``/v1/telephony/{tenant}/voice`` and its status
callback as ``/v1/telephony/{tenant}/status``; the TwiML returned points the provider
at the other routes. Every request must carry a valid ``X-Twilio-Signature`` (403 and
nothing changed otherwise); repeats and late arrivals are answered from the call's
recorded state.
"""

from __future__ import annotations

from typing import Annotated

import anyio
from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from slotline.call_intake.application import InboundCall
from slotline.call_intake.domain.instructions import Instruction
from slotline.call_intake.http.deps import Intake, Settings
from slotline.call_intake.telephony.twiml import TWIML_MEDIA_TYPE, render
from slotline.call_intake.telephony.webhook import parsed, signed_params
from slotline.events.http_contract import refusals
from slotline.events.rate_limits import rate_limited_responses, webhooks_limited

router = APIRouter(
    prefix="/v1/telephony/{tenant_id}",
    tags=["telephony"],
    dependencies=[Depends(webhooks_limited)],
    responses={**refusals(403), **rate_limited_responses()},
)

Phone = Field(pattern=r"^\+[1-9]\d{6,14}$")
Sid = Field(min_length=2, max_length=64)


class Webhook(BaseModel):
    model_config = ConfigDict(extra="ignore")
    CallSid: str = Sid


class IncomingCall(Webhook):
    From: str = Field(min_length=1, max_length=64, description="E.164, or anonymous.")
    To: str = Phone


class Consent(Webhook):
    Digits: str = ""


class DialOutcome(Webhook):
    DialCallStatus: str = Field(min_length=1, max_length=32)
    AnsweredBy: str | None = None


class CallStatus(Webhook):
    CallStatus: str = Field(min_length=1, max_length=32)
    SequenceNumber: int | None = Field(default=None, ge=0)


class Voicemail(Webhook):
    RecordingSid: str = Sid
    RecordingUrl: str = Field(default="", max_length=2048)
    RecordingDuration: int = Field(default=0, ge=0)


class Transcription(Webhook):
    RecordingSid: str = Sid
    TranscriptionText: str = Field(default="", max_length=10000)
    TranscriptionStatus: str = "completed"


def _twiml(app: Intake, tenant_id: str, instruction: Instruction) -> Response:
    plan = app.plan_or_none(tenant_id)
    body = render(instruction, f"/v1/telephony/{tenant_id}", plan.language if plan else "en")
    return Response(body, media_type=TWIML_MEDIA_TYPE)


@router.post("/voice")
async def incoming_call(
    tenant_id: str, request: Request, app: Intake, settings: Settings
) -> Response:
    """A call arrives: route it (business hours, team, strategy, overflow, voicemail)."""
    hook = parsed(IncomingCall, await signed_params(request, settings))
    inbound = InboundCall(tenant_id, hook.CallSid, hook.From, hook.To)
    return _twiml(app, tenant_id, await anyio.to_thread.run_sync(app.receive_call, inbound))


@router.post("/consent")
async def recording_consent(
    tenant_id: str, request: Request, app: Intake, settings: Settings
) -> Response:
    """The caller's key press (or none) on the recording question."""
    hook = parsed(Consent, await signed_params(request, settings))
    instruction = await anyio.to_thread.run_sync(
        app.choose_recording, tenant_id, hook.CallSid, hook.Digits
    )
    return _twiml(app, tenant_id, instruction)


@router.post("/dial")
async def dial_ended(
    tenant_id: str,
    request: Request,
    app: Intake,
    settings: Settings,
    step: Annotated[int, Query(ge=0, le=20)],
) -> Response:
    """A ``<Dial>`` ended: its ``DialCallStatus`` says answered or missed; next step."""
    hook = parsed(DialOutcome, await signed_params(request, settings))
    instruction = await anyio.to_thread.run_sync(
        app.dial_ended, tenant_id, hook.CallSid, step, hook.DialCallStatus, hook.AnsweredBy
    )
    return _twiml(app, tenant_id, instruction)


@router.post("/status", status_code=204)
async def call_status(
    tenant_id: str, request: Request, app: Intake, settings: Settings
) -> Response:
    """The parent call's status callback (stale ones, by ``SequenceNumber``, ignored)."""
    hook = parsed(CallStatus, await signed_params(request, settings))
    await anyio.to_thread.run_sync(
        app.call_status, tenant_id, hook.CallSid, hook.CallStatus, hook.SequenceNumber
    )
    return Response(status_code=204)


@router.post("/voicemail")
async def voicemail(tenant_id: str, request: Request, app: Intake, settings: Settings) -> Response:
    """The ``<Record>`` action: the message left (an empty recording is no message)."""
    hook = parsed(Voicemail, await signed_params(request, settings))
    instruction = await anyio.to_thread.run_sync(
        app.voicemail_left,
        tenant_id,
        hook.CallSid,
        hook.RecordingSid,
        hook.RecordingUrl,
        hook.RecordingDuration,
    )
    return _twiml(app, tenant_id, instruction)


@router.post("/transcription", status_code=204)
async def transcription(
    tenant_id: str, request: Request, app: Intake, settings: Settings
) -> Response:
    hook = parsed(Transcription, await signed_params(request, settings))
    if hook.TranscriptionStatus == "completed" and hook.TranscriptionText:
        await anyio.to_thread.run_sync(
            app.voicemail_transcribed,
            tenant_id,
            hook.CallSid,
            hook.RecordingSid,
            hook.TranscriptionText,
        )
    return Response(status_code=204)


@router.post("/recording", status_code=204)
async def call_recording(tenant_id: str, request: Request, settings: Settings) -> Response:
    """Recording status of a recorded conversation: acknowledged (kept by the provider)."""
    parsed(Webhook, await signed_params(request, settings))
    return Response(status_code=204)
