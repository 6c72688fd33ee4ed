"""The SLA job: escalate callback tasks about to breach and breached; release held texts.

APScheduler runs a sweep on a fixed interval that reads the stored deadlines (the
queue's read model) against the application's clock — never an in-process timer per
task, so a restart loses nothing. Any replica may sweep: the task aggregate refuses to
escalate twice, and a held text-back is released once.
"""

from __future__ import annotations

from typing import cast

from eventsourcing.postgres import PostgresProcessRecorder

from slotline.call_intake.application import CallIntakeApplication
from slotline.call_intake.live import tables
from slotline.events.logs import get_logger
from slotline.events.periodic import PeriodicJob
from slotline.events.unit_of_work import ContentionTooHigh

log = get_logger(__name__)


class SlaClock(PeriodicJob):
    """Sweeps the stored deadlines on a fixed interval."""

    name = "callback-sla"

    def __init__(
        self, app: CallIntakeApplication, *, interval_seconds: float = 5.0, batch_size: int = 200
    ) -> None:
        super().__init__(interval_seconds=interval_seconds)
        self.app = app
        self.batch_size = batch_size
        self.escalations = 0
        self.released = 0

    def sweep(self) -> int:
        """Escalate what is due at the application's now, release held texts (blocking)."""
        recorder = cast(PostgresProcessRecorder, self.app.process_recorder)
        schema = self.app.schema
        now = self.app.clock()
        try:
            with recorder.datastore.transaction(commit=False) as cursor:
                due = tables.tasks_due_escalation(
                    cursor, schema, now + self.app.policy.warn_before, now, self.batch_size
                )
                held = tables.held_text_backs_due(cursor, schema, now, self.batch_size)
        except Exception as error:  # the read model's tables may not exist yet
            log.debug("sla sweep skipped", error=repr(error))
            return 0
        done = 0
        for task_id in due:
            try:
                done += self.app.escalate_if_due(task_id)
            except ContentionTooHigh as error:
                log.warning("task not escalated", task_id=str(task_id), error=repr(error))
        for call_id in held:
            try:
                self.released += int(self.app.release_text_back(call_id))
            except ContentionTooHigh as error:
                log.warning("text-back not released", call_id=str(call_id), error=repr(error))
        self.escalations += done
        return done
