"""Use cases of ``payments.events.v1``: receipts by e-mail, a short text about a refund."""

from __future__ import annotations

from slotline.events.contract import payments
from slotline.events.logs import get_logger
from slotline.events.unit_of_work import UnitOfWork as Work
from slotline.notifier.application.core import NotifierCore
from slotline.notifier.domain.booking_card import money_text
from slotline.notifier.domain.notices import Notice, booking_notice
from slotline.notifier.domain.outgoing import EMAIL, QueuedMessage
from slotline.notifier.persistence.unit_of_work import joined

log = get_logger(__name__)


class PaymentNotices(NotifierCore):
    """What a booking's payments queue."""

    def receipt_issued(self, event: payments.ReceiptIssued, within: Work) -> None:
        now = self.clock()
        work = joined(self, within)
        card = work.rows.load_card(event.tenant_id, event.booking_id)
        to_email = event.recipient_email or (card.email if card else None)
        if to_email is None:
            log.info("receipt without an e-mail address", receipt=event.receipt_id)
            return
        notification_id = f"receipt:{event.receipt_id}"
        message = QueuedMessage(
            tenant_id=event.tenant_id,
            key=notification_id,
            notification_id=notification_id,
            template="receipt_issued",
            language=card.language if card else self.config.defaults.language,
            channels=(EMAIL,),
            due_at=now,
            to_email=to_email,
            booking_id=event.booking_id,
            variables={
                "receipt_id": event.receipt_id,
                "receipt_url": event.url,
                "amount": money_text(event.amount.amount_minor, event.amount.currency),
                "refund": "yes" if event.refund else "",
            },
        )
        self._enqueue(work, [message])
        within.after_commit(self._wake)

    def payment_refunded(self, event: payments.PaymentRefunded, within: Work) -> None:
        """A short text about the refund; the refund receipt itself goes by e-mail."""
        now = self.clock()
        work = joined(self, within)
        card = work.rows.load_card(event.tenant_id, event.booking_id)
        if card is None:
            return
        purpose = f"refund:{event.refund_id or event.payment_id}"
        amount = money_text(event.amount.amount_minor, event.amount.currency)
        notice = Notice(
            purpose,
            "payment_refunded",
            now,
            variables={"amount": amount, "reason": event.reason},
            text_only=True,
        )
        notices = booking_notice(card, notice)
        self._enqueue(work, notices)
        within.after_commit(self._wake)
