"""What every call-intake use case shares: the store, the clock, the policy, lookups."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, ClassVar, TypeVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import IntegrityError
from tenacity import Retrying, retry_if_exception_type, stop_after_attempt

from slotline.call_intake.domain.caller import Caller
from slotline.call_intake.domain.phone_plan import PhonePlan
from slotline.call_intake.domain.plan import CallPlan
from slotline.call_intake.telephony.lines import LineTypeLookup, NumberingPlanLookup
from slotline.events.clock import utc_now
from slotline.events.store import ServiceApplication

T = TypeVar("T")


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
    ) -> None:
        super().__init__(env=env)
        self.clock = clock
        self.policy = policy or IntakePolicy()
        self.lines: LineTypeLookup = lines or NumberingPlanLookup()
        self._plans: dict[str, tuple[int, CallPlan]] = {}

    # -- plans --------------------------------------------------------------------

    def define_plan(self, tenant_id: str, plan: CallPlan) -> None:
        data = plan.model_dump(mode="json")

        def attempt() -> None:
            stored = self._find(PhonePlan.create_id(tenant_id))
            if stored is None:
                self.save(PhonePlan(tenant_id=tenant_id, plan=data))
            elif stored.data != data:
                stored.change(data)
                self.save(stored)

        self._optimistically(attempt)

    def plan_of(self, tenant_id: str) -> CallPlan:
        stored = self._find(PhonePlan.create_id(tenant_id))
        if stored is None:
            raise UnknownItem(f"tenant {tenant_id!r} has no call plan; PUT /v1/call-plan first")
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

    # -- helpers ------------------------------------------------------------------

    def _caller(self, tenant_id: str, phone: str) -> Caller:
        found = self._find(Caller.create_id(tenant_id, phone))
        return found if isinstance(found, Caller) else Caller(tenant_id=tenant_id, phone=phone)

    def _find(self, aggregate_id: UUID) -> Any:
        try:
            return self.repository.get(aggregate_id)
        except AggregateNotFoundError:
            return None

    def _tenant_item(self, kind: type[T], tenant_id: str, aggregate_id: UUID) -> T:
        found = self._find(aggregate_id)
        if not isinstance(found, kind) or getattr(found, "tenant_id", None) != tenant_id:
            raise UnknownItem(f"no {kind.__name__} {aggregate_id} for tenant {tenant_id!r}")
        return found

    def _optimistically(self, attempt: Callable[[], T]) -> T:
        """Run ``attempt`` again on a version conflict (re-reading its streams), bounded.

        The last conflict is re-raised as it is, so the inbox can tell a message another
        delivery applied (its tracking record exists) from a real conflict.
        """
        for retry in Retrying(
            retry=retry_if_exception_type(IntegrityError),
            stop=stop_after_attempt(self.max_attempts),
            reraise=True,
        ):
            with retry:
                return attempt()
        raise AssertionError("unreachable: Retrying either returns or raises")
