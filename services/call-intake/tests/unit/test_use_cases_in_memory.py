"""Use cases on the in-memory store: one unit of work each, a consumed message applied
once, and the parsed plan cached only for a version that was stored."""

from __future__ import annotations

import pytest
from eventsourcing.persistence import IntegrityError, Tracking

from slotline.call_intake.application import CallIntakeApplication
from slotline.call_intake.caller_ids import caller_id
from slotline.call_intake.domain.caller import Caller
from slotline.call_intake.domain.phone_plan import PhonePlan
from slotline.call_intake.domain.plan import CallPlan
from slotline.call_intake.messaging import consent_changes
from slotline.events.contract import notifications
from slotline.events.unit_of_work import AlreadyApplied

pytestmark = pytest.mark.unit

TENANT = "clinic"
PHONE = "+306912345678"


def in_memory() -> CallIntakeApplication:
    return CallIntakeApplication(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})


def plan(business_name: str) -> CallPlan:
    return CallPlan.model_validate(
        {
            "business_name": business_name,
            "time_zone": "Europe/Athens",
            "hours": [{"weekday": 0, "start": "08:00", "end": "20:00"}],
            "teams": [
                {"team_id": "desk", "members": [{"staff_id": "maria", "phone": "+302100000011"}]}
            ],
            "lines": [{"number": "+302100000001", "team_id": "desk"}],
            "booking_url": "https://book.example.com/clinic",
        }
    )


def stop(app: CallIntakeApplication, tracking: Tracking, *, granted: bool) -> None:
    """A consent change applied as the inbox applies it: with its position, in one work."""
    keyword = "START" if granted else "STOP"
    app.command(
        lambda work: app.consent_changed(TENANT, PHONE, "transactional", granted, keyword, work),
        tracking=tracking,
    )


class TestConsumedMessages:
    def test_a_consent_change_is_saved_with_its_position(self) -> None:
        app = in_memory()
        tracking = Tracking("notifications|t|1", 1)

        stop(app, tracking, granted=False)

        caller: Caller = app.repository.get(caller_id(TENANT, PHONE))
        assert caller.opted_out
        assert app.applied(tracking)

    def test_a_second_delivery_is_already_applied_and_changes_nothing(self) -> None:
        app = in_memory()
        tracking = Tracking("notifications|t|1", 1)
        stop(app, tracking, granted=False)
        version: int = app.repository.get(caller_id(TENANT, PHONE)).version

        with pytest.raises(AlreadyApplied):
            stop(app, tracking, granted=True)

        assert app.repository.get(caller_id(TENANT, PHONE)).version == version

    def test_the_inbox_hears_a_second_delivery_as_applied_before(self) -> None:
        app = in_memory()
        tracking = Tracking("notifications|t|1", 1)
        message = notifications.ConsentChanged.model_construct(
            tenant_id=TENANT,
            aggregate_id=f"consent:{PHONE}",
            phone=PHONE,
            scope=notifications.ConsentScope.TRANSACTIONAL,
            granted=False,
            keyword="STOP",
        )
        apply = consent_changes(app)

        def deliver() -> None:
            with app.unit_of_work() as work:
                apply(message, work)
                work.track(tracking)

        deliver()
        with pytest.raises(IntegrityError):  # the inbox counts it a duplicate
            deliver()
        assert app.applied(tracking)


class TestPlanCache:
    def test_a_plan_changed_in_a_work_that_never_committed_is_not_remembered(self) -> None:
        app = in_memory()
        app.define_plan(TENANT, plan("Kifisia Dental"))
        assert app.plan_of(TENANT).business_name == "Kifisia Dental"

        seen_in_the_work: list[str] = []

        def lose_a_race() -> None:
            with app.unit_of_work() as work:
                stored = work.get(PhonePlan, PhonePlan.create_id(TENANT))
                assert stored is not None
                stored.change(plan("Lost Race").model_dump(mode="json"))
                seen_in_the_work.append(app.plan_of(TENANT).business_name)
                raise RuntimeError("the work lost its race")

        with pytest.raises(RuntimeError):
            lose_a_race()
        assert seen_in_the_work == ["Lost Race"]  # the work sees its own change
        app.define_plan(TENANT, plan("Marousi Dental"))  # the same version, stored

        assert app.plan_of(TENANT).business_name == "Marousi Dental"
