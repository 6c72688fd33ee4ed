"""``POST /v1/webhooks/{gateway}``: the gateway's signed webhooks, applied once each.

A bad signature is 400 (the sender keeps it and retries); anything verified is 200,
even a fact the ledger already knew or one about a ledger we do not have — a webhook
never needs to come twice. What a webhook says is not acted on: it names the payments
to look at, and the ledger learns what the gateway itself answers about them (a leaked
signing secret forges webhooks, not the gateway's records); the gateway unreachable →
503, and the sender retries.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Annotated, Any

import anyio
from fastapi import APIRouter, Depends, Header, Request

from slotline.events.logs import get_logger
from slotline.events.rate_limits import rate_limited_responses, webhooks_limited
from slotline.payments.application import UnknownLedger
from slotline.payments.domain.facts import GatewayFact
from slotline.payments.domain.ledger import Ledger
from slotline.payments.http.card_guard import refuse_card_numbers
from slotline.payments.http.deps import Payments

log = get_logger(__name__)

router = APIRouter(
    prefix="/v1/webhooks",
    tags=["webhooks"],
    dependencies=[Depends(webhooks_limited), Depends(refuse_card_numbers)],
    responses=rate_limited_responses(),
)


class UnknownGateway(LookupError):
    """Webhooks of a gateway this service does not use."""


@router.post("/{gateway_name}")
async def receive_webhook(
    gateway_name: str,
    request: Request,
    app: Payments,
    stripe_signature: Annotated[str | None, Header()] = None,
) -> dict[str, Any]:
    if gateway_name != app.gateway.name:
        raise UnknownGateway(f"this service takes {app.gateway.name} webhooks")
    observations = app.gateway.read_webhook(await request.body(), stripe_signature)
    facts: dict[tuple[str, str], list[GatewayFact]] = defaultdict(list)
    for observation in observations:
        facts[(observation.tenant_id, observation.booking_id)].append(observation.fact)
    recorded = 0
    for (tenant_id, booking_id), ledger_facts in facts.items():
        ledger_id = Ledger.create_id(tenant_id, booking_id)
        try:
            truth = await anyio.to_thread.run_sync(app.as_the_gateway_says, ledger_id, ledger_facts)
            caused = await anyio.to_thread.run_sync(app.learn, ledger_id, truth)
        except UnknownLedger:
            log.warning("webhook for a ledger we do not have", booking_id=booking_id)
            continue
        recorded += len(caused)
    return {"received": True, "facts": len(observations), "recorded": recorded}
