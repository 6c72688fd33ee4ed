"""Use cases of inbound messages: STOP/START/HELP by SMS (provider webhook) or WhatsApp
(``calls.events.v1``), and the 24-hour WhatsApp window an inbound message opens."""

from __future__ import annotations

from slotline.events.contract import calls
from slotline.events.unit_of_work import UnitOfWork as Work
from slotline.notifier.application.core import NotifierCore
from slotline.notifier.domain.consent import Intent, Keyword, read_keyword
from slotline.notifier.domain.notices import language_for
from slotline.notifier.domain.outgoing import SMS, WHATSAPP, QueuedMessage
from slotline.notifier.persistence.unit_of_work import UnitOfWork, joined, unit_of_work


class ConsentReplies(NotifierCore):
    """Keywords change consent and get one confirmation; inbound WhatsApp opens the window."""

    def whatsapp_received(self, event: calls.WhatsAppMessageReceived, within: Work) -> None:
        """Opens the 24-hour window; a keyword changes consent like an SMS reply."""
        work = joined(self, within)
        work.rows.open_window(event.tenant_id, event.from_phone, event.occurred_at)
        keyword = read_keyword(event.text)
        if keyword is not None:
            self._consent_reply(
                work,
                event.tenant_id,
                event.from_phone,
                keyword,
                channel=WHATSAPP,
                reply_from=event.to_phone,
                reference=event.message_id,
            )
        within.after_commit(self._wake)

    def text_received(
        self, tenant_id: str, from_phone: str, to_phone: str, body: str, message_sid: str
    ) -> Keyword | None:
        """An inbound SMS (provider webhook); retried webhooks change nothing."""
        keyword = read_keyword(body)
        with unit_of_work(self) as work:
            if not work.rows.first_sight_of_inbound(tenant_id, message_sid):
                return keyword
            if keyword is not None:
                self._consent_reply(
                    work,
                    tenant_id,
                    from_phone,
                    keyword,
                    channel=SMS,
                    reply_from=to_phone,
                    reference=message_sid,
                )
        self._wake()
        return keyword

    def _consent_reply(
        self,
        work: UnitOfWork,
        tenant_id: str,
        phone: str,
        keyword: Keyword,
        *,
        channel: str,
        reply_from: str | None,
        reference: str,
    ) -> None:
        if keyword.intent is Intent.HELP:
            template = "consent_help"
        else:
            consent = self.consent_of(work, tenant_id, phone)
            if not consent.reply(keyword):
                return  # already so: no second confirmation
            template = (
                "consent_opted_out" if keyword.intent is Intent.OPT_OUT else "consent_opted_in"
            )
        prefs = self.preferences(work, [tenant_id])[tenant_id]
        notification_id = f"consent-reply:{channel}:{reference}"
        reply = QueuedMessage(
            tenant_id=tenant_id,
            key=notification_id,
            notification_id=notification_id,
            template=template,
            language=language_for(phone, None, prefs.language),
            channels=(channel,),
            due_at=self.clock(),
            to_phone=phone,
            from_phone=reply_from,
            urgent=True,
            consent_exempt=True,  # the one confirmation (or help text) an opted-out number gets
            variables={"business_name": prefs.business_name},
        )
        self._enqueue(work, [reply])
