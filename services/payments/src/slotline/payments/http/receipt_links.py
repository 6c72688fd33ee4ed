"""``GET /v1/ledgers/{booking_id}/receipts``: the links to a booking's receipts, for a
booking channel's confirmation page (the channel credential sees links, not the
ledger's entries)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends

from slotline.events.audit import audited_route
from slotline.payments.http.card_guard import refuse_card_numbers
from slotline.payments.http.deps import Payments, Shopper
from slotline.payments.receipts import receipt_url
from slotline.payments.settings import PaymentsSettings


def receipt_links_router(settings: PaymentsSettings) -> APIRouter:
    router = APIRouter(
        prefix="/v1/ledgers",
        tags=["receipts"],
        dependencies=[
            Depends(refuse_card_numbers),
            Depends(audited_route("ledger", booking_id="ledger")),
        ],
    )

    @router.get("/{booking_id}/receipts")
    def receipt_links(booking_id: str, app: Payments, caller: Shopper) -> list[dict[str, Any]]:
        """Each receipt's id, kind, amount and stable link (404: no money moved yet)."""
        ledger = app.ledger(caller.tenant_id, booking_id)
        return [
            {
                "receipt_id": receipt.receipt_id,
                "refund": receipt.is_refund,
                "amount_minor": receipt.amount,
                "currency": ledger.currency,
                "url": receipt_url(settings.receipts_base_url, ledger, receipt.receipt_id),
            }
            for receipt in ledger.receipts.values()
        ]

    return router
