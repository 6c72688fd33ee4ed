"""Use cases of the requests on ``notifications.events.v1``: templated notifications,
missed-call text-backs and escalations to a manager (the last two urgent)."""

from __future__ import annotations

from slotline.events.contract import notifications as requests
from slotline.events.unit_of_work import UnitOfWork as Work
from slotline.notifier.application.core import Invalid, NotifierCore
from slotline.notifier.domain.notices import language_for
from slotline.notifier.domain.outgoing import EMAIL, SMS, WHATSAPP, QueuedMessage
from slotline.notifier.persistence.unit_of_work import joined
from slotline.notifier.rendering import TemplateProblem


class RequestedNotices(NotifierCore):
    """What other services ask the notifier to send."""

    def notification_requested(self, event: requests.NotificationRequested, within: Work) -> None:
        channels = tuple(dict.fromkeys(c.value for c in event.channels))
        message = QueuedMessage(
            tenant_id=event.tenant_id,
            key=f"request:{event.idempotency_key}",
            notification_id=event.notification_id,
            template=event.template,
            language=event.language,
            channels=channels,
            due_at=self.clock(),
            variables=dict(event.variables),
            to_phone=event.to_phone,
            to_email=event.to_email,
            urgent=event.urgent,
            zone=self.config.default_zone,
        )
        if not any(message.address(c) for c in channels):
            raise Invalid(f"none of the channels {list(channels)} has an address to send to")
        self.check_renders(message)
        work = joined(self, within)
        self._enqueue(work, [message])
        within.after_commit(self._wake)

    def check_renders(self, message: QueuedMessage) -> None:
        """Render every part now: a bad template is refused before anything is queued."""
        try:
            self.templates.render(
                message.tenant_id,
                message.template,
                message.language,
                message.variables,
                message.channels,
            )
        except TemplateProblem as problem:
            raise Invalid(str(problem)) from problem

    def text_back_requested(self, event: requests.TextBackRequested, within: Work) -> None:
        """The missed-call text: now (it answers a call just made), from the number dialled."""
        channel = event.channel.value
        work = joined(self, within)
        prefs = self.preferences(work, [event.tenant_id])[event.tenant_id]
        notification_id = f"textback:{event.call_id}"
        message = QueuedMessage(
            tenant_id=event.tenant_id,
            key=notification_id,
            notification_id=notification_id,
            template="text_back",
            language=language_for(event.to_phone, event.language, prefs.language),
            channels=(channel, SMS) if channel == WHATSAPP else (channel,),
            due_at=self.clock(),
            to_phone=event.to_phone,
            from_phone=event.from_phone,
            urgent=True,
            variables={
                "business_name": event.business_name,
                "booking_url": event.booking_url,
                "after_hours": "yes" if event.after_hours else "",
            },
        )
        self._enqueue(work, [message])
        within.after_commit(self._wake)

    def escalation_requested(self, event: requests.EscalationRequested, within: Work) -> None:
        channels = tuple(
            c for c, address in ((SMS, event.to_phone), (EMAIL, event.to_email)) if address
        )
        if not channels:
            raise Invalid(f"no phone or e-mail for staff {event.to_staff_id}: nobody to tell")
        notification_id = f"escalation:{event.task_id}:{'breached' if event.breached else 'due'}"
        work = joined(self, within)
        prefs = self.preferences(work, [event.tenant_id])[event.tenant_id]
        zone = self.config.default_zone
        message = QueuedMessage(
            tenant_id=event.tenant_id,
            key=notification_id,
            notification_id=notification_id,
            template="escalation",
            language=prefs.language,
            channels=channels,
            due_at=self.clock(),
            to_phone=event.to_phone,
            to_email=event.to_email,
            urgent=True,
            zone=zone,
            variables={
                "task_id": event.task_id,
                "deadline": event.deadline.isoformat(timespec="minutes"),
                "breached": "yes" if event.breached else "",
                "caller_phone": event.caller_phone or "",
                "staff_id": event.to_staff_id,
            },
        )
        self._enqueue(work, [message])
        within.after_commit(self._wake)
