"""Use cases of callback tasks: the front desk's claim, attempts and close; the SLA clock."""

from __future__ import annotations

from uuid import UUID

from slotline.call_intake.caller_ids import caller_id
from slotline.call_intake.domain.callback import Attempt, CallbackTask, Closure
from slotline.call_intake.domain.caller import Caller
from slotline.call_intake.intake_base import IntakeBase
from slotline.events.unit_of_work import UnitOfWork


class CallbackWork(IntakeBase):
    def claim_task(self, tenant_id: str, task_id: UUID, staff_id: str) -> CallbackTask:
        def act(work: UnitOfWork) -> CallbackTask:
            task = self._tenant_item(work, CallbackTask, tenant_id, task_id)
            task.claim(staff_id)
            return task

        return self._command(act)

    def record_attempt(
        self, tenant_id: str, task_id: UUID, staff_id: str, result: Attempt
    ) -> CallbackTask:
        """One callback attempt; an unclaimed task is claimed by whoever calls."""

        def act(work: UnitOfWork) -> CallbackTask:
            task = self._tenant_item(work, CallbackTask, tenant_id, task_id)
            if task.is_open and task.claimed_by is None:
                task.claim(staff_id)
            task.record_attempt(staff_id, result, self.clock(), self.policy.retry_after)
            self._release(work, task)
            return task

        return self._command(act)

    def close_task(self, tenant_id: str, task_id: UUID, outcome: Closure) -> CallbackTask:
        def act(work: UnitOfWork) -> CallbackTask:
            task = self._tenant_item(work, CallbackTask, tenant_id, task_id)
            task.close(outcome, self.clock())
            self._release(work, task)
            return task

        return self._command(act)

    def escalate_if_due(self, task_id: UUID) -> int:
        """Escalate a task about to breach (or past) its deadline; how many escalations."""

        def act(work: UnitOfWork) -> int:
            task = work.get(CallbackTask, task_id)
            if task is None:
                return 0
            now = self.clock()
            due = task.escalations_due(now, self.policy.warn_before)
            plan = self.plan_or_none(task.tenant_id)
            manager = plan.manager if plan else None
            for breached in due:
                task.escalate(breached, manager.staff_id if manager else None, now)
                if manager is not None:
                    task.request_escalation(
                        manager_id=manager.staff_id,
                        breached=breached,
                        to_phone=manager.phone,
                        to_email=manager.email,
                    )
            return len(due)

        return self._command(act)

    def _release(self, work: UnitOfWork, task: CallbackTask) -> None:
        """A closed task is no longer the caller's open one (saved with the task)."""
        if task.is_open:
            return
        caller = work.get(Caller, caller_id(task.tenant_id, task.customer_phone))
        if caller is not None and caller.open_task_id == task.id:
            caller.close_task(task.id)
