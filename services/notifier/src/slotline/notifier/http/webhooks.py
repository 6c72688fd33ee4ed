"""``/webhooks``: a tenant's outbound webhook subscriptions (owners and managers), their
delivery log and manual redelivery. Thin: parse, authorise, call the application."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any, Literal

import anyio
from fastapi import APIRouter, Depends, Query, Response
from pydantic import AnyHttpUrl, BaseModel, ConfigDict, Field

from slotline.events.audit import audited_route
from slotline.events.contract.common import EmailInput
from slotline.events.http_contract import refusals
from slotline.notifier.application.core import WEBHOOK_EVENT_TYPES
from slotline.notifier.http.deps import Manager, Notifier
from slotline.notifier.persistence.webhooks import Subscription

router = APIRouter(
    prefix="/webhooks",
    tags=["webhooks"],
    dependencies=[
        Depends(
            audited_route(
                "webhook_subscription",
                subscription_id="webhook_subscription",
                delivery_id="webhook_delivery",
            )
        )
    ],
)

EventType = StrEnum(  # type: ignore[misc]
    "EventType", {name: name for name in WEBHOOK_EVENT_TYPES}
)
"""The event types a subscription may ask for (the schema lists them)."""

REFUSED_URL: dict[int | str, dict[str, Any]] = {
    409: {
        "description": "The URL may not receive webhooks: it carries credentials, does not "
        "resolve, or resolves to an address that is not public (the SSRF guard)."
    }
}

_URL = "Where deliveries are POSTed: https (or http), a public address, no credentials."
_TYPES = "Event types to deliver (GET /webhooks/event-types lists them)."
_EMAIL = "Told by e-mail if the endpoint keeps failing and is paused."


class SubscriptionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: AnyHttpUrl = Field(description=_URL)
    event_types: list[EventType] = Field(min_length=1, max_length=100, description=_TYPES)
    description: str = Field(default="", max_length=500)
    notify_email: EmailInput | None = Field(default=None, description=_EMAIL)


class SubscriptionChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: AnyHttpUrl | None = Field(default=None, description=_URL)
    event_types: list[EventType] | None = Field(
        default=None, min_length=1, max_length=100, description=_TYPES
    )
    description: str | None = Field(default=None, max_length=500)
    notify_email: EmailInput | None = Field(default=None, description=_EMAIL)


class SubscriptionOut(BaseModel):
    subscription_id: str
    url: str
    event_types: list[str]
    description: str
    notify_email: str | None
    state: Literal["active", "paused"]
    paused_reason: str | None
    failures_in_a_row: int
    failing_since: datetime | None
    created_at: datetime
    previous_secrets_valid_until: list[datetime] = Field(
        description="Rotated-out secrets that still sign deliveries, until these times."
    )


class SubscriptionWithSecret(SubscriptionOut):
    secret: str = Field(description="The signing secret (whsec_…): shown only now.")


class DeliveryOut(BaseModel):
    delivery_id: str = Field(description="The webhook-id: the same on every attempt.")
    subscription_id: str
    event_id: str
    event_type: str
    created_at: datetime
    due_at: datetime
    state: Literal["scheduled", "sending", "delivered", "failed", "cancelled"]
    attempts: int
    finished_at: datetime | None
    last_status: int | None
    last_error: str | None


class AttemptOut(BaseModel):
    attempt: int
    at: datetime
    status: int | None
    latency_ms: float | None
    response_excerpt: str | None
    error: str | None


class DeliveryWithAttempts(DeliveryOut):
    attempt_log: list[AttemptOut]


def _out(s: Subscription) -> dict[str, Any]:
    return {
        "subscription_id": s.subscription_id,
        "url": s.url,
        "event_types": list(s.event_types),
        "description": s.description,
        "notify_email": s.notify_email,
        "state": s.state,
        "paused_reason": s.paused_reason,
        "failures_in_a_row": s.health.failures,
        "failing_since": s.health.failing_since,
        "created_at": s.created_at,
        "previous_secrets_valid_until": [k.expires_at for k in s.keys if k.expires_at],
    }


@router.get("/event-types", summary="Event types a subscription may ask for")
async def event_types(app: Notifier, principal: Manager) -> list[str]:
    return sorted(WEBHOOK_EVENT_TYPES)


@router.post(
    "/subscriptions",
    summary="Subscribe an endpoint to event types",
    status_code=201,
    response_model=SubscriptionWithSecret,
    responses=REFUSED_URL,
)
async def subscribe(body: SubscriptionIn, app: Notifier, principal: Manager) -> dict[str, Any]:
    subscription, secret = await anyio.to_thread.run_sync(
        lambda: app.subscribe(
            principal.tenant_id,
            str(body.url),
            [str(t) for t in body.event_types],
            body.description,
            body.notify_email,
        )
    )
    return {**_out(subscription), "secret": secret}


@router.get(
    "/subscriptions", summary="The tenant's subscriptions", response_model=list[SubscriptionOut]
)
async def subscriptions(app: Notifier, principal: Manager) -> list[dict[str, Any]]:
    found = await anyio.to_thread.run_sync(app.webhook_subscriptions, principal.tenant_id)
    return [_out(s) for s in found]


@router.get(
    "/subscriptions/{subscription_id}",
    summary="One subscription",
    response_model=SubscriptionOut,
    responses=refusals(404),
)
async def subscription(subscription_id: str, app: Notifier, principal: Manager) -> dict[str, Any]:
    found = await anyio.to_thread.run_sync(
        app.webhook_subscription, principal.tenant_id, subscription_id
    )
    return _out(found)


@router.patch(
    "/subscriptions/{subscription_id}",
    summary="Change a subscription's URL, event types, description or contact",
    response_model=SubscriptionOut,
    responses={**refusals(404), **REFUSED_URL},
)
async def change(
    subscription_id: str, body: SubscriptionChange, app: Notifier, principal: Manager
) -> dict[str, Any]:
    changes = body.model_dump(exclude_none=True)
    if "url" in changes:
        changes["url"] = str(body.url)
    if body.event_types is not None:
        changes["event_types"] = [str(t) for t in body.event_types]
    changed = await anyio.to_thread.run_sync(
        app.change_subscription, principal.tenant_id, subscription_id, changes
    )
    return _out(changed)


@router.delete(
    "/subscriptions/{subscription_id}",
    summary="Delete a subscription (its waiting deliveries are cancelled)",
    status_code=204,
    responses=refusals(404),
)
async def unsubscribe(subscription_id: str, app: Notifier, principal: Manager) -> Response:
    await anyio.to_thread.run_sync(app.unsubscribe, principal.tenant_id, subscription_id)
    return Response(status_code=204)


@router.post(
    "/subscriptions/{subscription_id}/rotate-secret",
    summary="A new signing secret; the old one keeps signing for the overlap",
    response_model=SubscriptionWithSecret,
    responses=refusals(404),
)
async def rotate(subscription_id: str, app: Notifier, principal: Manager) -> dict[str, Any]:
    changed, secret = await anyio.to_thread.run_sync(
        app.rotate_secret, principal.tenant_id, subscription_id
    )
    return {**_out(changed), "secret": secret}


@router.post(
    "/subscriptions/{subscription_id}/resume",
    summary="Resume a paused subscription (its waiting deliveries are sent now)",
    response_model=SubscriptionOut,
    responses=refusals(404),
)
async def resume(subscription_id: str, app: Notifier, principal: Manager) -> dict[str, Any]:
    resumed = await anyio.to_thread.run_sync(app.resume, principal.tenant_id, subscription_id)
    return _out(resumed)


@router.get(
    "/subscriptions/{subscription_id}/deliveries",
    summary="The subscription's delivery log, newest first",
    response_model=list[DeliveryOut],
    responses=refusals(404),
)
async def deliveries(
    subscription_id: str,
    app: Notifier,
    principal: Manager,
    state: Literal["scheduled", "sending", "delivered", "failed", "cancelled"] | None = None,
    limit: int = Query(default=100, ge=1, le=1000),
) -> list[dict[str, Any]]:
    return await anyio.to_thread.run_sync(
        app.webhook_deliveries, principal.tenant_id, subscription_id, state, limit
    )


@router.get(
    "/deliveries/{delivery_id}",
    summary="One delivery and its attempts (status, latency, response excerpt)",
    response_model=DeliveryWithAttempts,
    responses=refusals(404),
)
async def delivery(delivery_id: str, app: Notifier, principal: Manager) -> dict[str, Any]:
    return await anyio.to_thread.run_sync(app.webhook_delivery, principal.tenant_id, delivery_id)


@router.post(
    "/deliveries/{delivery_id}/redeliver",
    summary="Send a delivery again now, with the same webhook-id",
    status_code=202,
    response_model=DeliveryWithAttempts,
    responses=refusals(404, 409),
)
async def redeliver(delivery_id: str, app: Notifier, principal: Manager) -> dict[str, Any]:
    return await anyio.to_thread.run_sync(app.redeliver, principal.tenant_id, delivery_id)
