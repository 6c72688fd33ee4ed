"""``GET /v1/receipts/{ledger_id}/{receipt_id}``: a receipt's stable HTML page.

No login: the link is the credential (its receipt id is random), as with the links in
confirmation e-mails.
"""

from __future__ import annotations

from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from fastapi import APIRouter, Depends
from fastapi.responses import HTMLResponse

from slotline.payments.domain.ledger import Ledger
from slotline.payments.http.card_guard import refuse_card_numbers
from slotline.payments.http.deps import Payments
from slotline.payments.receipts import render_receipt

router = APIRouter(
    prefix="/v1/receipts", tags=["receipts"], dependencies=[Depends(refuse_card_numbers)]
)


class UnknownReceipt(LookupError):
    """No such receipt."""


@router.get("/{ledger_id}/{receipt_id}", response_class=HTMLResponse)
def get_receipt(ledger_id: UUID, receipt_id: str, app: Payments) -> HTMLResponse:
    try:
        ledger: Ledger = app.repository.get(ledger_id)
    except AggregateNotFoundError:
        raise UnknownReceipt("no such receipt") from None
    receipt = ledger.receipts.get(receipt_id)
    if receipt is None:
        raise UnknownReceipt("no such receipt")
    return HTMLResponse(render_receipt(ledger, receipt))
