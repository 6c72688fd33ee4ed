"""One unit of work per command: changes commit together, a lost race is redone, a
repeat is recognised, and concurrent requests share one commit."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from uuid import UUID

import pytest
from eventsourcing.persistence import IntegrityError, Tracking
from psycopg.pq import TransactionStatus

from slotline.events.context import caused_by
from slotline.events.group_commit import GroupCommit
from slotline.events.store import ensure_schema, event_meta, postgres_env
from slotline.events.testing.tally import Credit, Tally, TallyApplication, TallyLedger
from slotline.events.unit_of_work import (
    AlreadyApplied,
    ContentionTooHigh,
    UnitOfWork,
    read_cursor,
)


def count(tally_id: UUID, amount: int = 1) -> Callable[[UnitOfWork], int]:
    def act(work: UnitOfWork) -> int:
        tally = work.get(Tally, tally_id)
        assert tally is not None
        tally.count(amount)
        return int(tally.total)

    return act


class TestInMemory:
    """Use cases run on the in-memory store: no PostgreSQL needed to test them."""

    pytestmark = pytest.mark.unit

    def test_a_command_saves_what_it_changed_and_answers(self) -> None:
        app = TallyApplication()
        tally = Tally()
        app.command(lambda work: work.add(tally))
        assert app.command(count(tally.id, 5)) == 5
        assert app.command(count(tally.id, 2)) == 7
        assert app.repository.get(tally.id).total == 7

    def test_a_command_that_raises_saves_nothing(self) -> None:
        app = TallyApplication()
        tally = Tally()
        app.command(lambda work: work.add(tally))

        def half_done(work: UnitOfWork) -> None:
            count(tally.id, 3)(work)
            raise ValueError("refused")

        with pytest.raises(ValueError, match="refused"):
            app.command(half_done)
        assert app.repository.get(tally.id).total == 0

    def test_a_tracked_command_applies_once(self) -> None:
        app = TallyLedger()
        tracking = Tracking("ledger|tally|t-1", 3)

        def credit(work: UnitOfWork) -> None:
            found = work.get(Credit, Credit.create_id("t-1"))
            if found is None:
                found = Credit("t-1")
                work.add(found)
            found.credit(4)

        app.command(credit, tracking=tracking)
        with pytest.raises(AlreadyApplied):
            app.command(credit, tracking=tracking)
        assert app.repository.get(Credit.create_id("t-1")).amounts == [4]

    def test_each_message_of_a_batch_gives_its_events_its_own_context(self) -> None:
        """A batch commits outside each message's context: every event keeps the
        context it was made in, on an aggregate that several messages change too."""
        app = TallyApplication()
        shared, other = Tally(), Tally()
        app.command(lambda work: work.add(shared, other))
        with app.unit_of_work() as work:
            for correlation, tally_ids in (("m-1", [shared.id]), ("m-2", [shared.id, other.id])):
                with caused_by(correlation):
                    for tally_id in tally_ids:
                        count(tally_id)(work)
                    work.stamp()
            with caused_by("m-3"):
                work.stamp()  # nothing new: nothing is stamped again
        made_in = {
            (event.originator_id, event.originator_version): event_meta(event)
            for tally_id in (shared.id, other.id)
            for event in app.repository.event_store.get(tally_id)
        }
        assert made_in[(shared.id, 2)]["correlation_id"] == "m-1"
        assert made_in[(shared.id, 3)]["correlation_id"] == "m-2"
        assert made_in[(other.id, 2)]["correlation_id"] == "m-2"


@pytest.mark.integration
class TestOnPostgres:
    def test_a_lost_race_is_redone_on_fresh_state(self, tally_app: TallyApplication) -> None:
        tally = Tally()
        tally_app.command(lambda work: work.add(tally))
        raced = threading.Event()

        def count_after_a_rival(work: UnitOfWork) -> int:
            total = count(tally.id)(work)
            if not raced.is_set():  # a rival commits between our read and our commit
                raced.set()
                tally_app.command(count(tally.id, 10))
            return total

        assert tally_app.command(count_after_a_rival) == 11, "the redo saw the rival's count"
        assert tally_app.repository.get(tally.id).total == 11

    def test_a_race_lost_at_the_commit_leaves_the_connection_clean(self, database_url: str) -> None:
        """The lock, the insert and the COMMIT go to the server together: a lost race is
        reported once they have (as eventsourcing's ``IntegrityError``), and the pooled
        connections go back rolled back, ready for the next work."""
        ensure_schema(database_url, "racing")
        app = TallyApplication(env=postgres_env(database_url, "racing", pool_size=1))
        try:
            tally = Tally()
            app.command(lambda work: work.add(tally))

            def beaten() -> None:
                with app.unit_of_work() as work:
                    count(tally.id)(work)
                    app.command(count(tally.id, 10))  # a rival commits first

            for _ in range(3):
                with pytest.raises(IntegrityError):
                    beaten()
            datastore = app.sql_recorder.datastore
            with datastore.get_connection() as one, datastore.get_connection() as other:
                statuses = {one.info.transaction_status, other.info.transaction_status}
            assert statuses == {TransactionStatus.IDLE}
            assert app.command(count(tally.id)) == 31
        finally:
            app.close()

    def test_a_work_takes_its_aggregates_from_the_cache_and_puts_back_only_committed_state(
        self, tally_app: TallyApplication
    ) -> None:
        """No copy per read: a work gets the cached instance itself and, once committed,
        leaves it for the next work; a work that fails drops what it took, so no one
        ever reads its half-done changes."""
        tally = Tally()
        tally_app.command(lambda work: work.add(tally))
        with tally_app.unit_of_work() as work:
            first = work.get(Tally, tally.id)
        with tally_app.unit_of_work() as work:
            assert work.get(Tally, tally.id) is first, "taken from the cache, not copied"

        def half_done(work: UnitOfWork) -> None:
            count(tally.id, 3)(work)
            raise ValueError("refused")

        with pytest.raises(ValueError, match="refused"):
            tally_app.command(half_done)
        assert first is not None
        assert first.total == 3, "the failed work changed the instance it took"
        assert tally_app.get_many([tally.id])[tally.id].total == 0
        assert tally_app.command(count(tally.id, 2)) == 2

    def test_a_work_that_began_before_an_erasure_puts_nothing_back_in_the_cache(
        self, tally_app: TallyApplication
    ) -> None:
        """What such a work read may hold personal data opened with a key destroyed since
        (payments' ledger kept a receipt address after its customer's erasure, CI
        2026-12-06): the next reader replays instead."""
        tally = Tally()
        tally_app.command(lambda work: work.add(tally))
        with tally_app.unit_of_work() as work:
            read = work.get(Tally, tally.id)
            elsewhere = threading.Thread(target=tally_app.erase, args=("acme", "customer-1"))
            elsewhere.start()  # another thread's erasure (no unit of work of ours)
            elsewhere.join()
        with tally_app.unit_of_work() as work:
            again = work.get(Tally, tally.id)
        assert again is not read, "replayed from the store, not the instance read before"
        with tally_app.unit_of_work() as work:
            assert work.get(Tally, tally.id) is again, "a work begun after caches again"

    def test_endless_contention_gives_up_with_a_clear_error(
        self, tally_app: TallyApplication
    ) -> None:
        tally = Tally()
        tally_app.command(lambda work: work.add(tally))

        def always_beaten(work: UnitOfWork) -> None:
            count(tally.id)(work)
            tally_app.command(count(tally.id))

        with pytest.raises(ContentionTooHigh):
            tally_app.command(always_beaten, attempts=3)

    def test_a_memo_is_read_again_once_the_work_writes_rows(
        self, tally_app: TallyApplication
    ) -> None:
        """A row every message of a batch looks up is read once, until a message writes
        rows: what was memoised may be what it wrote, and no handler has to say so."""
        reads: list[str] = []

        def terms() -> str:
            with read_cursor(tally_app.recorder) as cursor:
                cursor.execute("SELECT name FROM terms")
                row = cursor.fetchone()
            assert row is not None
            reads.append(row["name"])
            return str(row["name"])

        with tally_app.unit_of_work() as work:
            work.cursor.execute("CREATE TEMPORARY TABLE terms (name text) ON COMMIT DROP")
            work.cursor.execute("INSERT INTO terms VALUES ('old')")
            assert [work.memo("terms", terms) for _ in range(3)] == ["old"] * 3
            work.cursor.execute("UPDATE terms SET name = 'new'")
            assert work.memo("terms", terms) == "new"
        assert reads == ["old", "new"], "read once, then once more after the write"

    async def test_concurrent_requests_share_one_commit_and_see_each_other(
        self, tally_app: TallyApplication
    ) -> None:
        tally = Tally()
        tally_app.command(lambda work: work.add(tally))
        group = GroupCommit(tally_app)
        works: set[int] = set()

        def counted(work: UnitOfWork) -> int:
            works.add(id(work))
            return count(tally.id)(work)

        def refused(work: UnitOfWork) -> int:
            count(tally.id, 100)(work)  # half done, then refused: must leave no trace
            raise LookupError("no such thing")

        acts = [counted] * 10 + [refused] + [counted] * 10
        await group.run(counted)  # the worker is busy with this one while the rest queue
        answers = await asyncio.gather(*(group.run(a) for a in acts), return_exceptions=True)
        await group.close()

        totals = [a for a in answers if isinstance(a, int)]
        assert sorted(totals) == list(range(2, 22)), "each saw the ones before it"
        assert [type(a) for a in answers if not isinstance(a, int)] == [LookupError]
        assert tally_app.repository.get(tally.id).total == 21
        assert len(works) < len(acts), "requests that arrived together shared a unit of work"

    async def test_groups_under_way_together_lose_no_count_when_they_race(
        self, tally_app: TallyApplication
    ) -> None:
        """Two workers: a group that committed first makes the other's commit a lost race,
        which is redone on fresh state — every request is answered and counted once."""
        tally = Tally()
        tally_app.command(lambda work: work.add(tally))
        group = GroupCommit(tally_app, workers=2)
        works: set[int] = set()
        both_under_way = threading.Barrier(2, timeout=5)
        calls: list[int] = []

        def counted(work: UnitOfWork) -> int:
            calls.append(1)
            answer = count(tally.id)(work)
            if id(work) not in works and len(works) < 2:
                works.add(id(work))
                both_under_way.wait()  # the first two groups have read the same version
            return answer

        first = asyncio.ensure_future(group.run(counted))
        await asyncio.sleep(0.1)  # a worker takes it alone and waits for the other group
        answers = await asyncio.gather(first, *(group.run(counted) for _ in range(39)))
        await group.close()

        assert sorted(answers) == list(range(1, 41)), "each answer is its own count"
        assert tally_app.repository.get(tally.id).total == 40
        assert len(works) == 2
        assert len(calls) > 40, "the two groups raced and the loser was redone"
