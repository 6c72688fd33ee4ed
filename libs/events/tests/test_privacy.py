"""Personal data is sealed per subject in the event store; erasing the subject (its key
destroyed) leaves placeholders in every replay while the rest of each event stays."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Iterator
from contextlib import suppress
from typing import Any, ClassVar

import psycopg
import pytest
from eventsourcing.domain import Aggregate, event
from psycopg import Cursor
from psycopg.rows import DictRow

from slotline.events.channel_watch import ChannelWatch
from slotline.events.privacy.erasure_notice import ErasureNotice, ErasureNotices, Subject
from slotline.events.privacy.fields import SEALED_PREFIX
from slotline.events.privacy.keys import LocalKeyEncryptionKeys
from slotline.events.privacy.personal import ERASED, personal
from slotline.events.store import ServiceApplication, ensure_schema, postgres_env
from slotline.events.unit_of_work import unit_of_work


class Visit(Aggregate):
    """A booking-like aggregate: who (personal) and what (not)."""

    @personal("visitor", subject="visitor_id")
    class Made(Aggregate.Created):
        tenant_id: str
        visitor_id: str
        visitor: dict[str, Any]
        minutes: int

    @personal("note", subject="visitor_id")
    class Noted(Aggregate.Event):
        tenant_id: str
        visitor_id: str
        note: str

    @event(Made)
    def __init__(
        self, tenant_id: str, visitor_id: str, visitor: dict[str, Any], minutes: int
    ) -> None:
        self.tenant_id, self.visitor_id = tenant_id, visitor_id
        self.visitor = visitor
        self.minutes = minutes
        self.notes: list[str] = []

    def add_note(self, note: str) -> None:
        self._note(self.tenant_id, self.visitor_id, note)

    @event(Noted)
    def _note(self, tenant_id: str, visitor_id: str, note: str) -> None:
        self.notes.append(note)


class Visits(ServiceApplication):
    name = "visits"
    env: ClassVar[dict[str, str]] = dict(ServiceApplication.env)


def alice(minutes: int = 60) -> Visit:
    contact = {"name": "Alice Papadopoulou", "phone": "+306940000001", "email": None}
    return Visit("clinic", "customer-1", contact, minutes)


class TestKeys:
    pytestmark = pytest.mark.unit

    def test_a_wrapped_key_opens_only_for_its_tenant_and_subject(self) -> None:
        kek = LocalKeyEncryptionKeys(b"k" * 32)
        wrapped = kek.wrap("clinic", "s1", b"d" * 32)
        assert kek.unwrap("clinic", "s1", wrapped) == b"d" * 32
        with pytest.raises(Exception):  # noqa: B017, PT011 — cryptography's InvalidTag
            kek.unwrap("clinic", "s2", wrapped)
        with pytest.raises(Exception):  # noqa: B017, PT011
            LocalKeyEncryptionKeys(b"other-master-key-32-bytes-long!!").unwrap(
                "clinic", "s1", wrapped
            )


class TestInMemory:
    pytestmark = pytest.mark.unit

    def test_a_stored_event_holds_no_personal_text_and_reads_back_whole(self) -> None:
        app = Visits()
        visit = alice()
        visit.add_note("allergic to lavender")
        app.save(visit)
        stored = b"".join(e.state for e in app.recorder.select_events(visit.id))
        assert b"Alice" not in stored
        assert b"6940000001" not in stored
        assert b"lavender" not in stored
        copy: Visit = app.repository.get(visit.id)
        assert copy.visitor["name"] == "Alice Papadopoulou"
        assert copy.visitor["email"] is None, "only texts are sealed: the shape stays"
        assert copy.notes == ["allergic to lavender"]
        assert SEALED_PREFIX.encode() in stored

    def test_after_erasure_a_replay_shows_placeholders_and_keeps_the_rest(self) -> None:
        app = Visits()
        visit = alice()
        app.save(visit)
        app.erase("clinic", "customer-1", [visit.id])
        replayed: Visit = app.repository.get(visit.id)
        assert replayed.visitor == {"name": ERASED, "phone": ERASED, "email": None}
        assert replayed.minutes == 60, "what is not personal stays"

    def test_a_subject_met_again_after_erasure_gets_a_new_key_for_what_is_new(self) -> None:
        app = Visits()
        before = alice(30)
        app.save(before)
        app.erase("clinic", "customer-1", [before.id])
        after = alice(45)
        app.save(after)
        assert app.repository.get(after.id).visitor["name"] == "Alice Papadopoulou"
        assert app.repository.get(before.id).visitor["name"] == ERASED, "the old stays shut"


class TestErasureAndTheCache:
    pytestmark = pytest.mark.unit

    def test_an_erasure_waits_for_a_work_putting_back_what_it_read(self) -> None:
        """A work checks that no erasure came since it began, then puts its aggregates
        back in the cache. Were its thread to pause between the two while an erasure
        counted itself and evicted, it would put the erased person back for good: the
        check and the puts are one step, and so are the count and the eviction."""
        app = Visits()
        visit = alice()
        app.save(visit)
        cache = app.repository.cache
        assert cache is not None
        with suppress(KeyError):
            cache.get(visit.id, evict=True)
        putting, resume = threading.Event(), threading.Event()
        put = cache.put

        def paused_put(key: Any, value: Any) -> None:  # the thread paused before the put
            putting.set()
            resume.wait(5)
            put(key, value)

        cache.put = paused_put  # type: ignore[method-assign]
        keeper = threading.Thread(target=app.remember, args=([visit],), kwargs={"since": 0})
        keeper.start()
        assert putting.wait(5)
        eraser = threading.Thread(target=app.erase, args=("clinic", "customer-1", [visit.id]))
        eraser.start()
        eraser.join(0.5)  # unordered, the erasure is done by now: it evicted nothing
        resume.set()
        keeper.join(5)
        eraser.join(5)
        cache.put = put  # type: ignore[method-assign]
        with pytest.raises(KeyError):
            cache.get(visit.id)
        assert app.repository.get(visit.id).visitor["name"] == ERASED


class TestErasureNotices:
    pytestmark = pytest.mark.unit

    class Store:
        def __init__(self) -> None:
            self.forgotten: list[Subject | None] = []

        def erased_elsewhere(self, subject: Subject | None) -> None:
            self.forgotten.append(subject)

    def test_another_process_s_notice_forgets_its_subject_and_one_s_own_nothing(self) -> None:
        store = self.Store()
        watch = ErasureNotices("slotline_erasures_visits", "me", store)
        watch.heard(ErasureNotice("clinic", "customer-1", "me").payload())
        watch.heard(ErasureNotice("clinic", "customer-2", "another").payload())
        assert store.forgotten == [("clinic", "customer-2")]

    @pytest.mark.parametrize("payload", ["", "[1, 2, 3]", '["clinic", "customer-1"]', "{}"])
    def test_a_notice_it_cannot_read_forgets_everything(self, payload: str) -> None:
        store = self.Store()
        watch = ErasureNotices("slotline_erasures_visits", "me", store)
        watch.heard(payload)
        assert store.forgotten == [None]


@pytest.mark.integration
class TestOnPostgres:
    @pytest.fixture
    def visits(self, database_url: str) -> Iterator[Visits]:
        ensure_schema(database_url, "visits")
        app = Visits(env=postgres_env(database_url, "visits"))
        yield app
        app.close()

    def test_the_raw_tables_hold_no_personal_text(self, visits: Visits, database_url: str) -> None:
        visit = alice()
        visits.save(visit)
        with psycopg.connect(database_url) as conn:
            raw = b"".join(
                bytes(row[0]) for row in conn.execute("SELECT state FROM visits.visits_events")
            )
            keys = conn.execute("SELECT wrapped FROM visits.personal_data_keys").fetchall()
        assert raw
        assert b"Alice" not in raw
        assert b"+306940000001" not in raw
        assert len(keys) == 1, "one data key for the one subject, stored wrapped"

    def test_erasure_is_seen_by_a_fresh_process_replaying_the_store(
        self, visits: Visits, database_url: str
    ) -> None:
        visit = alice()
        visits.save(visit)
        visits.erase("clinic", "customer-1", [visit.id])
        other = Visits(env=postgres_env(database_url, "visits"))
        try:
            replayed: Visit = other.repository.get(visit.id)
        finally:
            other.close()
        assert replayed.visitor["phone"] == ERASED
        assert replayed.minutes == 60

    def test_on_postgres_too_a_subject_met_again_gets_a_new_key(self, visits: Visits) -> None:
        before = alice(30)
        visits.save(before)
        visits.erase("clinic", "customer-1", [before.id])
        after = alice(45)
        visits.save(after)
        visits.repository.cache = None  # read from the store, not a cached copy
        assert visits.repository.get(after.id).visitor["name"] == "Alice Papadopoulou"
        assert visits.repository.get(before.id).visitor["name"] == ERASED

    def test_a_tampered_text_is_refused_not_taken_for_erased(
        self, visits: Visits, database_url: str
    ) -> None:
        visit = alice()
        visits.save(visit)
        other = alice()
        other_visit = Visit("clinic", "customer-2", other.visitor, 10)
        visits.save(other_visit)
        select = "SELECT state FROM visits.visits_events WHERE originator_id = %s"
        with psycopg.connect(database_url) as conn:  # customer-2's sealed name moved to 1
            theirs = json.loads(bytes(conn.execute(select, (other_visit.id,)).fetchall()[0][0]))
            mine = json.loads(bytes(conn.execute(select, (visit.id,)).fetchall()[0][0]))
            mine["visitor"]["name"] = theirs["visitor"]["name"]
            conn.execute(
                "UPDATE visits.visits_events SET state = %s WHERE originator_id = %s",
                (json.dumps(mine).encode(), visit.id),
            )
        fresh = Visits(env=postgres_env(database_url, "visits"))
        try:
            with pytest.raises(Exception, match="does not open"):
                fresh.repository.get(visit.id)
        finally:
            fresh.close()

    def test_a_key_made_in_a_unit_of_work_that_rolls_back_is_not_kept(self, visits: Visits) -> None:
        def fails_after_sealing() -> None:
            with unit_of_work(visits):
                assert visits.vault.data_key("clinic", "customer-9", create=True) is not None
                raise RuntimeError("the work fails after sealing")

        with pytest.raises(RuntimeError):
            fails_after_sealing()
        assert visits.vault.data_key("clinic", "customer-9", create=False) is None

    def test_a_key_is_read_once_in_a_unit_of_work(self, visits: Visits) -> None:
        """A booking's confirmation, reminders and card are sealed in one work: the key
        is made or read by the first, and the rest reuse it, not the table (PostgreSQL's
        own counts of this transaction's reads and writes of the keys' table)."""

        def touched(cursor: Cursor[DictRow]) -> tuple[int, int]:
            cursor.execute(
                "SELECT coalesce(idx_scan, 0) + seq_scan AS reads, n_tup_ins AS made"
                " FROM pg_stat_xact_user_tables"
                " WHERE schemaname = 'visits' AND relname = 'personal_data_keys'"
            )
            row = cursor.fetchone()
            assert row is not None
            return row["reads"], row["made"]

        with unit_of_work(visits) as work:
            cursor = work.key_cursor
            assert cursor is not None
            first = visits.vault.data_key("clinic", "customer-7", create=True)
            after_first = touched(cursor)
            again = [visits.vault.data_key("clinic", "customer-7", create=True) for _ in range(3)]
            after_again = touched(cursor)
            other = visits.vault.data_key("clinic", "customer-8", create=True)
            after_other = touched(cursor)
        assert again == [first] * 3
        assert after_again == after_first
        assert other is not None
        assert other != first
        assert after_other[0] > after_first[0]
        assert after_other[1] == after_first[1] + 1

    def test_a_key_destroyed_in_a_unit_of_work_is_gone_for_the_rest_of_it(
        self, visits: Visits
    ) -> None:
        with unit_of_work(visits):
            assert visits.vault.data_key("clinic", "customer-6", create=True) is not None
            visits.vault.destroy("clinic", "customer-6")
            assert visits.vault.data_key("clinic", "customer-6", create=False) is None

    def test_events_saved_by_a_command_are_sealed_in_its_transaction(
        self, visits: Visits, database_url: str
    ) -> None:
        visit = alice()
        visits.command(lambda work: work.add(visit))
        with psycopg.connect(database_url) as conn:
            raw = b"".join(
                bytes(row[0]) for row in conn.execute("SELECT state FROM visits.visits_events")
            )
        assert b"Alice" not in raw
        assert visits.repository.get(visit.id).visitor["name"] == "Alice Papadopoulou"


@pytest.mark.integration
class TestAnotherProcess:
    """Two processes of one service on one store: what one erases, the other forgets."""

    @pytest.fixture
    def stores(self, database_url: str) -> Iterator[tuple[Visits, Visits]]:
        ensure_schema(database_url, "visits")
        eraser = Visits(env=postgres_env(database_url, "visits"))
        reader = Visits(env=postgres_env(database_url, "visits"))
        yield eraser, reader
        eraser.close()
        reader.close()

    @staticmethod
    def watch(database_url: str, store: Visits) -> ChannelWatch:
        channel = store.vault.erasures_channel
        assert channel is not None
        return ChannelWatch(database_url, [ErasureNotices(channel, store.vault.origin, store)])

    async def test_it_forgets_the_key_and_its_cached_copy_when_it_hears(
        self, stores: tuple[Visits, Visits], database_url: str
    ) -> None:
        eraser, reader = stores
        visit = alice()
        eraser.save(visit)
        watch = self.watch(database_url, reader)
        watching = asyncio.create_task(watch.run())
        try:
            await asyncio.wait_for(watch.listening_now.wait(), 10)
            read: Visit = reader.repository.get(visit.id)  # cached, and its key with it
            assert read.visitor["name"] == "Alice Papadopoulou"
            await asyncio.to_thread(eraser.erase, "clinic", "customer-1", [visit.id])
            deadline = time.monotonic() + 10
            while reader.repository.get(visit.id).visitor["name"] != ERASED:
                assert time.monotonic() < deadline, "the reader still shows the erased name"
                await asyncio.sleep(0.05)
            assert reader.vault.data_key("clinic", "customer-1", create=False) is None
        finally:
            watch.stop()
            await watching

    async def test_one_not_listening_then_forgets_everything_once_it_listens(
        self, stores: tuple[Visits, Visits], database_url: str
    ) -> None:
        """A notice reaches only those listening when it commits: one that may have
        missed some (it was starting, or its connection was down) keeps nothing."""
        eraser, reader = stores
        visit = alice()
        eraser.save(visit)
        assert reader.repository.get(visit.id).visitor["name"] == "Alice Papadopoulou"
        eraser.erase("clinic", "customer-1", [visit.id])  # no one listening
        assert reader.repository.get(visit.id).visitor["name"] == "Alice Papadopoulou"
        watch = self.watch(database_url, reader)
        watching = asyncio.create_task(watch.run())
        try:
            await asyncio.wait_for(watch.listening_now.wait(), 10)
            assert reader.repository.get(visit.id).visitor["name"] == ERASED
        finally:
            watch.stop()
            await watching

    def test_an_erasure_rolled_back_is_not_announced(
        self, stores: tuple[Visits, Visits], database_url: str
    ) -> None:
        eraser, _ = stores
        channel = eraser.vault.erasures_channel
        assert channel is not None
        with psycopg.connect(database_url, autocommit=True) as listener:
            listener.execute(f"LISTEN {channel}")

            def fails_after_erasing() -> None:
                with unit_of_work(eraser):
                    eraser.erase("clinic", "customer-1")
                    raise RuntimeError("the work fails after the erasure")

            with pytest.raises(RuntimeError):
                fails_after_erasing()
            eraser.erase("clinic", "customer-2")
            heard = [ErasureNotice.read(n.payload) for n in listener.notifies(timeout=2)]
        assert [(n.subject_id, n.origin) for n in heard] == [("customer-2", eraser.vault.origin)]
