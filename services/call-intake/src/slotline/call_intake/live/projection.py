"""The intake projection: the event store's log → queue, call log and timelines, exactly once.

Each batch is applied to the tables and the projection's position recorded in one
transaction; a replayed batch fails on the position and changes nothing. Every task
changed is NOTIFYed on commit for the live queue.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

from eventsourcing.persistence import Notification
from psycopg import Cursor, sql
from psycopg.rows import DictRow

from slotline.call_intake.caller_ids import caller_id
from slotline.call_intake.domain.call import Call
from slotline.call_intake.domain.callback import CallbackTask
from slotline.call_intake.domain.caller import Caller
from slotline.call_intake.domain.message import InboundMessage
from slotline.call_intake.live import tables
from slotline.call_intake.live.line_kinds import CallerLineKind
from slotline.call_intake.live.tables import QUEUE_CHANGED_CHANNEL
from slotline.events.privacy import erasure_lock
from slotline.events.privacy.personal import ERASED
from slotline.events.privacy.read_models import ReadModelSeal
from slotline.events.privacy.vault import KeyVault
from slotline.events.projection import Projection

PROJECTION_NAME = "intake-view"


class IntakeProjection(Projection):
    """Keeps the read tables current; one leader per store."""

    projection_name = PROJECTION_NAME

    def make_tables(self, cursor: Cursor[DictRow]) -> None:
        tables.create_tables(cursor, self.schema)
        tables.seal_legacy_rows(cursor, self.schema, self.app.read_seal)

    def project(self, notifications: Sequence[Notification]) -> None:
        with self.recorder.datastore.transaction(commit=True) as cursor:
            erasure_lock.projecting(cursor, self.schema)  # before decoding: see its doc
            writer = _Writer(cursor, self.schema, self.app.read_seal, self.app.vault)
            events = [self.app.mapper.to_domain_event(n) for n in notifications]
            writer.look_up({number for event in events for number in _numbers(event)})
            for event, notification in zip(events, notifications, strict=True):
                writer.apply(event, notification.id)
            for tenant_id, task_id in writer.changed_tasks:
                payload = json.dumps({"tenant_id": tenant_id, "task_id": task_id})
                cursor.execute("SELECT pg_notify(%s, %s)", (QUEUE_CHANGED_CHANNEL, payload))
            self.record_position(cursor, notifications)


class _Writer:
    """Applies one event to the tables (inside the batch's transaction)."""

    def __init__(
        self, cursor: Cursor[DictRow], schema: str, seal: ReadModelSeal, vault: KeyVault
    ) -> None:
        self.cursor = cursor
        self.schema = schema
        self.seal = seal
        self.vault = vault
        self.changed_tasks: dict[tuple[str, str], None] = {}
        self._keyless: dict[tuple[str, str], bool] = {}

    def look_up(self, numbers: Collection[tuple[str, str]]) -> None:
        """Whether each (tenant, number)'s caller is erased, in one query: what was
        decoded may still show them, opened with a key cached before their erasure
        (here, or in the replica that erased them); the database, read under the
        erasure lock, has the last word."""
        subjects = {(tenant, str(caller_id(tenant, number))) for tenant, number in numbers}
        subjects -= self._keyless.keys()
        if subjects:
            gone = self.vault.keyless(self.cursor, subjects)
            self._keyless.update({subject: subject in gone for subject in subjects})

    def _erased(self, tenant_id: str, phone: str) -> bool:
        """The caller with this number is erased: write nothing of theirs."""
        if phone == ERASED:
            return True
        self.look_up([(tenant_id, phone)])
        return self._keyless[(tenant_id, str(caller_id(tenant_id, phone)))]

    def _table(self, name: str) -> sql.Composed:
        return sql.SQL("{}.{}").format(sql.Identifier(self.schema), sql.Identifier(name))

    def _run(self, statement: str, table: str, params: Sequence[Any]) -> None:
        self.cursor.execute(sql.SQL(statement).format(self._table(table)), params)

    def apply(self, event: Any, position: int) -> None:
        if isinstance(event, Call.Event):
            self._call(event, position)
        elif isinstance(event, CallbackTask.Event):
            self._callback_task(event, position)
        elif isinstance(event, Caller.Event):
            self._caller(event, position)
        elif isinstance(event, InboundMessage.Event):
            self._inbound_message(event, position)

    # -- calls ----------------------------------------------------------------------

    def _call(self, event: Any, position: int) -> None:
        call_id = event.originator_id
        if isinstance(event, Call.Received):
            phone, index = self._number(event.tenant_id, event.from_phone)
            self._run(
                "INSERT INTO {} (call_id, tenant_id, call_sid, from_phone, to_phone, received_at,"
                " from_phone_index, sealed) VALUES (%s, %s, %s, %s, %s, %s, %s, true)"
                " ON CONFLICT DO NOTHING",
                "call_log",
                (
                    call_id,
                    event.tenant_id,
                    event.call_sid,
                    phone,
                    event.to_phone,
                    event.received_at,
                    index,
                ),
            )
            self._note(
                event.tenant_id,
                event.from_phone,
                event.received_at,
                CallerLineKind.CALL,
                call_id,
                {"to_phone": event.to_phone},
                position,
            )
            return
        update = _call_change(event)
        if update is not None:
            assignments, params = update
            self._run(
                f"UPDATE {{}} SET {assignments} WHERE call_id = %s", "call_log", (*params, call_id)
            )
        detail = _call_detail(event)
        if detail is not None:
            self.cursor.execute(
                sql.SQL("SELECT tenant_id, from_phone FROM {} WHERE call_id = %s").format(
                    self._table("call_log")
                ),
                (call_id,),
            )
            row = self.cursor.fetchone()
            if row is not None:
                self._note(
                    row["tenant_id"],
                    self._opened(row["tenant_id"], row["from_phone"]),
                    event.timestamp,
                    _CALL_KINDS[type(event)],
                    call_id,
                    detail,
                    position,
                )

    # -- callback tasks -------------------------------------------------------------

    def _callback_task(self, event: Any, position: int) -> None:
        task_id = event.originator_id
        version = event.originator_version
        if isinstance(event, CallbackTask.Created):
            self._run(
                "INSERT INTO {} (task_id, tenant_id, customer_phone, customer_phone_index,"
                " source, call_id, lead_id, assigned_to, created_at, deadline, status, version,"
                " sealed) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, 'open', %s, true)"
                " ON CONFLICT DO NOTHING",
                "callback_queue",
                (
                    task_id,
                    event.tenant_id,
                    *self._number(event.tenant_id, event.customer_phone),
                    event.source,
                    event.call_id,
                    event.lead_id,
                    event.assigned_to,
                    event.created_at,
                    event.deadline,
                    version,
                ),
            )
        else:
            change = _task_change(event)
            if change is None:
                return
            assignments, params = change
            self._run(
                f"UPDATE {{}} SET {assignments}, version = %s WHERE task_id = %s",
                "callback_queue",
                (*params, version, task_id),
            )
        self.cursor.execute(
            sql.SQL("SELECT tenant_id, customer_phone FROM {} WHERE task_id = %s").format(
                self._table("callback_queue")
            ),
            (task_id,),
        )
        row = self.cursor.fetchone()
        if row is None:
            return
        self.changed_tasks[(row["tenant_id"], str(task_id))] = None
        at = _first(event, "at", "created_at") or event.timestamp
        self._note(
            row["tenant_id"],
            self._opened(row["tenant_id"], row["customer_phone"]),
            at,
            _TASK_KINDS[type(event)],
            task_id,
            _detail(event),
            position,
        )

    # -- callers and messages -------------------------------------------------------

    def _caller(self, event: Any, position: int) -> None:
        if isinstance(event, Caller.Registered):
            self._remember(event.originator_id, event.tenant_id, event.phone)
            return
        kind = _CALLER_KINDS.get(type(event))
        party = self._party(event.originator_id)
        if kind and party:
            self._note(*party, event.timestamp, kind, event.originator_id, _detail(event), position)

    def _inbound_message(self, event: Any, position: int) -> None:
        if isinstance(event, InboundMessage.Received):
            self._remember(event.originator_id, event.tenant_id, event.from_phone)
            detail = {"channel": event.channel, "text": event.text, "message_id": event.message_id}
            self._note(
                event.tenant_id,
                event.from_phone,
                event.sent_at,
                CallerLineKind.MESSAGE,
                event.originator_id,
                detail,
                position,
            )
            return
        kind = _MESSAGE_KINDS.get(type(event))
        party = self._party(event.originator_id)
        if kind and party:
            self._note(*party, event.timestamp, kind, event.originator_id, _detail(event), position)

    def _remember(self, aggregate_id: Any, tenant_id: str, phone: str) -> None:
        if self._erased(tenant_id, phone):  # the erasure deleted the number's party rows
            return
        self._run(
            "INSERT INTO {} (aggregate_id, tenant_id, phone, phone_index, sealed)"
            " VALUES (%s, %s, %s, %s, true) ON CONFLICT DO NOTHING",
            "party",
            (aggregate_id, tenant_id, *self._number(tenant_id, phone)),
        )

    def _party(self, aggregate_id: Any) -> tuple[str, str] | None:
        self.cursor.execute(
            sql.SQL("SELECT tenant_id, phone FROM {} WHERE aggregate_id = %s").format(
                self._table("party")
            ),
            (aggregate_id,),
        )
        row = self.cursor.fetchone()
        return (row["tenant_id"], self._opened(row["tenant_id"], row["phone"])) if row else None

    def _number(self, tenant_id: str, phone: str) -> tuple[str | None, str | None]:
        """A caller's number as stored: sealed, and its keyed hash (an erased caller's:
        the placeholder and none, as the erasure left their rows)."""
        if self._erased(tenant_id, phone):
            return ERASED, None
        return self.seal.seal(tenant_id, phone), self.seal.index(tenant_id, "phone", phone)

    def _opened(self, tenant_id: str, stored: str) -> str:
        return self.seal.open(tenant_id, stored) or stored

    def _note(
        self,
        tenant_id: str,
        phone: str,
        at: datetime,
        kind: CallerLineKind,
        ref: Any,
        detail: dict[str, Any],
        position: int,
    ) -> None:
        if self._erased(tenant_id, phone):  # the erasure deleted the number's lines
            return
        self._run(
            "INSERT INTO {} (position, tenant_id, phone, phone_index, at, kind, ref, detail,"
            " sealed) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, true) ON CONFLICT DO NOTHING",
            "timeline",
            (
                position,
                tenant_id,
                *self._number(tenant_id, phone),
                at,
                kind.value,
                str(ref),
                json.dumps(self.seal.seal_json(tenant_id, detail)),
            ),
        )


def _numbers(event: Any) -> list[tuple[str, str]]:
    """The callers' numbers an event brings into the read models, with its tenant."""
    e = event.__dict__
    tenant = e.get("tenant_id")
    found = (e.get(field) for field in ("from_phone", "customer_phone", "phone"))
    return [(tenant, number) for number in found if isinstance(number, str) and tenant]


_CALL_KINDS: dict[type, CallerLineKind] = {
    Call.Answered: CallerLineKind.CALL_ANSWERED,
    Call.Missed: CallerLineKind.CALL_MISSED,
    Call.TextBackRequested: CallerLineKind.TEXT_BACK,
    Call.TextBackHeld: CallerLineKind.TEXT_BACK_HELD,
    Call.TextBackSkipped: CallerLineKind.TEXT_BACK_WITHHELD,
    Call.VoicemailRecorded: CallerLineKind.VOICEMAIL,
    Call.VoicemailTranscribed: CallerLineKind.VOICEMAIL_TRANSCRIBED,
    Call.BookingCredited: CallerLineKind.BOOKING_CREDITED,
}
"""The events of a call on the caller's timeline, and their kind there."""

_TASK_KINDS: dict[type, CallerLineKind] = {
    CallbackTask.Created: CallerLineKind.TASK_CREATED,
    CallbackTask.Claimed: CallerLineKind.TASK_CLAIMED,
    CallbackTask.AttemptRecorded: CallerLineKind.TASK_ATTEMPT_RECORDED,
    CallbackTask.Escalated: CallerLineKind.TASK_ESCALATED,
    CallbackTask.Closed: CallerLineKind.TASK_CLOSED,
}
"""The events that change a task's row in the queue, and their kind on the timeline."""

_CALLER_KINDS: dict[type, CallerLineKind] = {
    Caller.BookingSeen: CallerLineKind.BOOKING,
    Caller.ConsentChanged: CallerLineKind.CONSENT,
}

_MESSAGE_KINDS: dict[type, CallerLineKind] = {
    InboundMessage.BookingForwarded: CallerLineKind.BOOKING_REQUESTED,
    InboundMessage.LeadCaptured: CallerLineKind.LEAD,
}


def _call_change(event: Any) -> tuple[str, Sequence[Any]] | None:
    """The change of a call's row in the call log (older events may lack a field)."""
    e = event.__dict__
    match event:
        case Call.Routed():
            return "after_hours = %s", (e.get("opening", "open") != "open",)
        case Call.Answered():
            return "outcome = 'answered', answered_by = %s", (e.get("staff_id"),)
        case Call.Missed():
            return "outcome = 'missed', miss_reason = %s", (e.get("reason"),)
        case Call.TextBackRequested():
            return "text_back = 'requested', text_back_due = NULL", ()
        case Call.TextBackHeld():
            return "text_back = 'held', text_back_due = %s", (e.get("until"),)
        case Call.TextBackSkipped():
            return "text_back = %s", (f"skipped:{e.get('reason')}",)
        case Call.BookingCredited():
            return "booking_id = %s", (e.get("booking_id"),)
    return None


def _call_detail(event: Any) -> dict[str, Any] | None:
    if type(event) not in _CALL_KINDS:
        return None
    fields = _event_fields(event)
    if isinstance(event, Call.TextBackRequested):
        fields = dict(fields["fields"])
    if isinstance(event, Call.TextBackHeld):
        fields = {"until": fields["until"]}
    return {k: _jsonable(v) for k, v in fields.items()}


def _task_change(event: Any) -> tuple[str, Sequence[Any]] | None:
    e = event.__dict__
    match event:
        case CallbackTask.Claimed():
            return "claimed_by = %s", (e["staff_id"],)
        case CallbackTask.AttemptRecorded():
            return (
                "attempts = attempts + 1, last_attempt = %s, next_attempt_at = %s,"
                " first_response_at = coalesce(first_response_at, %s),"
                " claimed_by = coalesce(claimed_by, %s)",
                (e["result"], e["next_attempt_at"], e["at"], e["staff_id"]),
            )
        case CallbackTask.Escalated():
            return "warned = true, breached = breached OR %s", (e["breached"],)
        case CallbackTask.Closed():
            response = e["at"] if e["outcome"] == "reached" else None
            return (
                "status = 'closed', outcome = %s, booking_id = %s, closed_at = %s,"
                " next_attempt_at = NULL, first_response_at = coalesce(first_response_at, %s)",
                (e["outcome"], e["booking_id"], e["at"], response),
            )
    return None


_ENVELOPE = {"originator_id", "originator_version", "timestamp", "originator_topic", "_meta"}


def _event_fields(event: Any) -> dict[str, Any]:
    return {k: v for k, v in event.__dict__.items() if k not in _ENVELOPE}


def _detail(event: Any) -> dict[str, Any]:
    return {k: _jsonable(v) for k, v in _event_fields(event).items()}


def _first(event: Any, *names: str) -> Any:
    for name in names:
        if name in event.__dict__:
            return event.__dict__[name]
    return None


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)
