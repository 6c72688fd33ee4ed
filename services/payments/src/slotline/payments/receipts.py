"""Receipts as HTML pages: rendered from the receipt frozen in the ledger, so a link
shows the same page forever."""

from __future__ import annotations

from datetime import datetime

from jinja2 import Environment, PackageLoader, select_autoescape

from slotline.payments.domain.ledger import Ledger
from slotline.payments.domain.money import Money
from slotline.payments.domain.payment import Receipt

_templates = Environment(
    loader=PackageLoader("slotline.payments", "templates"),
    autoescape=select_autoescape(["html", "j2"]),
)


def receipt_url(base_url: str, ledger: Ledger, receipt_id: str) -> str:
    """The stable link of a receipt (its id is unguessable)."""
    return f"{base_url.rstrip('/')}/v1/receipts/{ledger.id}/{receipt_id}"


def render_receipt(ledger: Ledger, receipt: Receipt) -> str:
    currency = ledger.currency or "EUR"
    payment = ledger.payments[receipt.payment_id]
    title = "Refund receipt" if receipt.is_refund else "Payment receipt"
    return _templates.get_template("receipt.html.j2").render(
        title=title,
        receipt=receipt,
        booking_id=ledger.booking_id,
        issued=datetime.fromisoformat(receipt.issued_at).strftime("%Y-%m-%d %H:%M UTC"),
        amount=Money(receipt.amount, currency),
        tax=Money(receipt.tax, currency),
        net=Money(receipt.amount - receipt.tax, currency),
        rate=f"{receipt.tax_rate_basis_points / 100:g}",
        gateway=payment.gateway or "the gateway",
        reference=payment.reference or "-",
    )
