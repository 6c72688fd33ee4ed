"""The caller: what the business knows of one phone number across calls and messages.

It remembers when the number was last texted back (the once-per-window rule), whether
it opted out (as the notifier reported), which callback task is open for it, and
whether it writes on WhatsApp (then text-backs go there).
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from slotline.events.privacy.personal import personal

BLOCKING_SCOPES = frozenset({"transactional", "all"})


class Caller(Aggregate):
    @classmethod
    def register(cls, caller_id: UUID, tenant_id: str, phone: str) -> Caller:
        """A number met for the first time, under the id the application keys from it."""
        return cls._create(cls.Registered, id=caller_id, tenant_id=tenant_id, phone=phone)

    @personal("phone", subject="originator_id")
    class Registered(Aggregate.Created):
        tenant_id: str
        phone: str

    @event(Registered)
    def __init__(self, tenant_id: str, phone: str) -> None:
        self.tenant_id = tenant_id
        self.phone = phone
        self.last_text_back_at: datetime | None = None
        self.opted_out_of: list[str] = []
        self.open_task_id: UUID | None = None
        self.last_missed_call_id: UUID | None = None
        self.whatsapp_since: datetime | None = None

    @property
    def opted_out(self) -> bool:
        """Text-backs are service messages: a transactional or full opt-out stops them."""
        return not BLOCKING_SCOPES.isdisjoint(self.opted_out_of)

    @property
    def writes_on_whatsapp(self) -> bool:
        return self.whatsapp_since is not None

    class MissedCall(Aggregate.Event):
        call_id: UUID
        at: datetime

    @event(MissedCall)
    def note_missed_call(self, call_id: UUID, at: datetime) -> None:
        self.last_missed_call_id = call_id

    class TextedBack(Aggregate.Event):
        call_id: UUID
        at: datetime

    @event(TextedBack)
    def note_text_back(self, call_id: UUID, at: datetime) -> None:
        self.last_text_back_at = at

    def change_consent(self, scope: str, granted: bool, keyword: str | None) -> None:
        scopes = {"transactional", "marketing"} if scope == "all" else {scope}
        if granted:
            after = set(self.opted_out_of) - scopes - ({"all"} if scope == "all" else set())
        else:
            after = set(self.opted_out_of) | scopes | ({"all"} if scope == "all" else set())
        if after != set(self.opted_out_of):
            self._consent(opted_out_of=sorted(after), keyword=keyword)

    class ConsentChanged(Aggregate.Event):
        opted_out_of: list[str]
        keyword: str | None

    @event(ConsentChanged)
    def _consent(self, opted_out_of: list[str], keyword: str | None) -> None:
        self.opted_out_of = opted_out_of

    class TaskOpened(Aggregate.Event):
        task_id: UUID

    @event(TaskOpened)
    def open_task(self, task_id: UUID) -> None:
        self.open_task_id = task_id

    class TaskClosed(Aggregate.Event):
        task_id: UUID

    @event(TaskClosed)
    def close_task(self, task_id: UUID) -> None:
        if self.open_task_id == task_id:
            self.open_task_id = None

    class WroteOnWhatsApp(Aggregate.Event):
        message_id: str
        at: datetime

    @event(WroteOnWhatsApp)
    def note_whatsapp(self, message_id: str, at: datetime) -> None:
        if self.whatsapp_since is None:
            self.whatsapp_since = at

    class BookingSeen(Aggregate.Event):
        booking_id: str
        call_id: UUID | None

    @event(BookingSeen)
    def note_booking(self, booking_id: str, call_id: UUID | None) -> None:
        self.last_booking_id = booking_id
