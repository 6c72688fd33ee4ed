"""What every call-intake use case shares: the store, the clock, the policy, lookups."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import ClassVar, TypeVar
from uuid import UUID

from eventsourcing.domain import Aggregate

from slotline.call_intake.caller_ids import caller_id
from slotline.call_intake.domain.caller import Caller
from slotline.call_intake.domain.number_claim import NumberClaim
from slotline.call_intake.domain.phone_plan import PhonePlan
from slotline.call_intake.domain.plan import CallPlan
from slotline.call_intake.telephony.lines import LineTypeLookup, NumberingPlanLookup
from slotline.call_intake.text_back_limits import TextBackLimits
from slotline.events.clock import utc_now
from slotline.events.rate_limits import PostgresStorage
from slotline.events.store import ServiceApplication
from slotline.events.unit_of_work import UnitOfWork

T = TypeVar("T")
A = TypeVar("A", bound=Aggregate)


class UnknownItem(LookupError):
    """No such plan, call or task for this tenant (404)."""


@dataclass(frozen=True)
class IntakePolicy:
    """Defaults a tenant's plan may override (from the service's settings)."""

    text_back_window: timedelta = timedelta(minutes=20)
    callback_sla: timedelta = timedelta(minutes=15)
    warn_before: timedelta = timedelta(minutes=5)
    retry_after: tuple[timedelta, ...] = field(
        default=(timedelta(minutes=10), timedelta(hours=1), timedelta(hours=4))
    )

    def window(self, plan: CallPlan) -> timedelta:
        minutes = plan.text_back_window_minutes
        return timedelta(minutes=minutes) if minutes else self.text_back_window

    def sla(self, plan: CallPlan | None) -> timedelta:
        minutes = plan.callback_sla_minutes if plan else None
        return timedelta(minutes=minutes) if minutes else self.callback_sla


class IntakeBase(ServiceApplication):
    name = "call_intake"
    env: ClassVar[dict[str, str]] = dict(ServiceApplication.env)
    max_attempts = 10

    def __init__(
        self,
        env: dict[str, str] | None = None,
        clock: Callable[[], datetime] = utc_now,
        policy: IntakePolicy | None = None,
        lines: LineTypeLookup | None = None,
        text_back_limits: TextBackLimits | None = None,
    ) -> None:
        super().__init__(env=env)
        self.clock = clock
        self.policy = policy or IntakePolicy()
        self.lines: LineTypeLookup = lines or NumberingPlanLookup()
        self.text_back_limits = text_back_limits
        if text_back_limits is not None:
            recorder = self.sql_recorder
            text_back_limits.prepare(
                PostgresStorage(lambda: recorder.transaction(commit=True), self.schema)
            )
        self._plans: dict[str, tuple[int, CallPlan]] = {}

    # -- plans --------------------------------------------------------------------

    def define_plan(self, tenant_id: str, plan: CallPlan) -> None:
        data = plan.model_dump(mode="json")

        def act(work: UnitOfWork) -> None:
            stored = work.get(PhonePlan, PhonePlan.create_id(tenant_id))
            before = stored.plan.whatsapp_number_ids() if stored is not None else frozenset()
            self._claim_numbers(work, tenant_id, plan.whatsapp_number_ids(), before)
            if stored is None:
                work.add(PhonePlan(tenant_id=tenant_id, plan=data))
            elif stored.data != data:
                stored.change(data)

        self._command(act)

    def _claim_numbers(
        self, work: UnitOfWork, tenant_id: str, now: frozenset[str], before: frozenset[str]
    ) -> None:
        """Each WhatsApp number the plan lists is claimed for the tenant (refused if
        another tenant's plan lists it); those it no longer lists are let go."""
        for number in sorted(now | before):
            claim = work.get(NumberClaim, NumberClaim.create_id(number))
            if number in now:
                if claim is None:
                    work.add(NumberClaim(phone_number_id=number, tenant_id=tenant_id))
                else:
                    claim.take(tenant_id)
            elif claim is not None:
                claim.release(tenant_id)

    def plan_of(self, tenant_id: str) -> CallPlan:
        plan_id = PhonePlan.create_id(tenant_id)
        stored = self.get_many([plan_id]).get(plan_id)  # through the open unit of work, if any
        if not isinstance(stored, PhonePlan):
            raise UnknownItem(f"tenant {tenant_id!r} has no call plan; PUT /v1/call-plan first")
        if stored.pending_events:  # changed in a work not committed yet: its version may
            return stored.plan  # never be stored (a lost race), so it is not cached
        known = self._plans.get(tenant_id)
        if known is not None and known[0] == stored.version:
            return known[1]  # parsed once per version: every webhook reads the plan
        plan: CallPlan = stored.plan
        self._plans[tenant_id] = (stored.version, plan)
        return plan

    def plan_or_none(self, tenant_id: str) -> CallPlan | None:
        try:
            return self.plan_of(tenant_id)
        except UnknownItem:
            return None

    # -- the command path -----------------------------------------------------------

    def _command(self, act: Callable[[UnitOfWork], T]) -> T:
        """A use case in one unit of work: a lost race re-reads and redoes it
        (``max_attempts``), then ``ContentionTooHigh`` (a 503 over HTTP)."""
        return self.command(act, attempts=self.max_attempts)

    # -- helpers ------------------------------------------------------------------

    def _caller(self, work: UnitOfWork, tenant_id: str, phone: str) -> Caller:
        """The caller of that number; one not met before is saved only if the use case
        adds it (``work.add``) or something happens to it."""
        known = caller_id(tenant_id, phone)
        caller = work.get(Caller, known)
        if caller is None:
            caller = Caller.register(known, tenant_id, phone)
            work.open(caller)
        return caller

    def _tenant_item(self, work: UnitOfWork, kind: type[A], tenant_id: str, item_id: UUID) -> A:
        found = work.get(kind, item_id)
        if found is None or getattr(found, "tenant_id", None) != tenant_id:
            raise UnknownItem(f"no {kind.__name__} {item_id} for tenant {tenant_id!r}")
        return found
