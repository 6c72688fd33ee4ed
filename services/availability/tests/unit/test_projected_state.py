"""The slot projection's world keeps the long-lived kinds (resource days, the catalogue)
however many holds pass through it, and a hold it let go is read again at the version
its next event needs."""

from __future__ import annotations

from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event

from slotline.availability.live.state import ProjectedState


class Day(Aggregate):
    """Stands for a resource day: read by every recomputation."""

    @event("Booked")
    def book(self) -> None:
        pass


class Ask(Aggregate):
    """Stands for a hold: read again only while its saga lasts."""

    @event("Confirmed")
    def confirm(self) -> None:
        pass


def _stored(app: Application[UUID], *aggregates: Aggregate) -> list[object]:
    return [recording.domain_event for recording in app.save(*aggregates)]


def test_holds_passing_through_never_push_out_the_days() -> None:
    app: Application[UUID] = Application()
    world = ProjectedState(app.repository, max_aggregates=10, long_lived=(Day,), max_recent=2)
    days = [Day() for _ in range(3)]
    asks = [Ask() for _ in range(50)]
    for domain_event in _stored(app, *days, *asks):
        world.apply(domain_event)

    assert list(world._kept.long) == [day.id for day in days]  # still there: no read needed
    assert list(world._kept.short) == [ask.id for ask in asks[-2:]]


def test_a_hold_let_go_is_read_again_at_the_version_its_next_event_needs() -> None:
    app: Application[UUID] = Application()
    world = ProjectedState(app.repository, long_lived=(Day,), max_recent=1)
    first, second = Ask(), Ask()
    for domain_event in _stored(app, first, second):
        world.apply(domain_event)  # the second pushes the first out

    first.confirm()
    (confirmed,) = _stored(app, first)
    after = world.apply(confirmed)

    assert isinstance(after, Ask)
    assert after.id == first.id
    assert after.version == 2


def test_a_day_not_stored_yet_is_remembered_as_absent_with_the_long_lived() -> None:
    app: Application[UUID] = Application()
    world = ProjectedState(
        app.repository, long_lived=(Day,), max_recent=1, load_many=lambda ids: {}
    )
    missing = Day().id
    world.prefetch([missing])
    for domain_event in _stored(app, *(Ask() for _ in range(5))):
        world.apply(domain_event)

    assert world.get(missing) is None
    assert missing in world._kept.long
