"""``GET /v1/ledgers/{booking_id}``: a booking's money, for staff and managers."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends

from slotline.events.audit import audited_route
from slotline.payments.domain.ledger import Ledger
from slotline.payments.http.card_guard import refuse_card_numbers
from slotline.payments.http.deps import Payments, Staff
from slotline.payments.receipts import receipt_url
from slotline.payments.settings import PaymentsSettings

_HIDDEN = {"originator_id", "originator_topic", "timestamp", "originator_version", "_meta"}


def ledger_router(settings: PaymentsSettings) -> APIRouter:
    router = APIRouter(
        prefix="/v1/ledgers",
        tags=["ledgers"],
        dependencies=[
            Depends(refuse_card_numbers),
            Depends(audited_route("ledger", booking_id="ledger")),
        ],
    )

    @router.get("/{booking_id}")
    def get_ledger(booking_id: str, app: Payments, caller: Staff) -> dict[str, Any]:
        """The ledger's current state and every entry in order (404 outside your tenant)."""
        ledger = app.ledger(caller.tenant_id, booking_id)
        return ledger_json(ledger, app.history(ledger.id), settings.receipts_base_url)

    return router


def ledger_json(ledger: Ledger, history: list[Any], base_url: str) -> dict[str, Any]:
    currency = ledger.currency
    return {
        "booking_id": ledger.booking_id,
        "currency": currency,
        "version": ledger.version,
        "payments": [
            {
                "payment_id": p.payment_id,
                "purpose": p.purpose.value,
                "amount_minor": p.amount,
                "status": p.status.value,
                "gateway": p.gateway or None,
                "gateway_reference": p.reference,
                "captured_minor": p.captured,
                "refunded_minor": p.refunded,
                "failure": p.failure,
            }
            for p in ledger.payments.values()
        ],
        "fees": [
            {
                "fee_id": f.fee_id,
                "kind": f.kind.value,
                "amount_minor": f.amount,
                "collected_minor": f.collected,
                "settled": f.settled,
            }
            for f in ledger.fees.values()
        ],
        "pending_operations": [
            {"kind": op.kind.value, "idempotency_key": op.key, "amount_minor": op.amount}
            for op in ledger.pending.values()
        ],
        "receipts": [
            {
                "receipt_id": r.receipt_id,
                "refund": r.is_refund,
                "amount_minor": r.amount,
                "url": receipt_url(base_url, ledger, r.receipt_id),
            }
            for r in ledger.receipts.values()
        ],
        "entries": [_entry(event) for event in history],
    }


def _entry(event: Any) -> dict[str, Any]:
    fields = {k: v for k, v in vars(event).items() if k not in _HIDDEN}
    if isinstance(fields.get("operation"), dict):
        fields["operation"] = {k: v for k, v in fields["operation"].items() if k != "token"}
    fields.pop("token", None)
    return {
        "version": event.originator_version,
        "at": event.timestamp.isoformat(),
        "type": type(event).__name__,
        **fields,
    }
