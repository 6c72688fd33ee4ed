"""Personal data is sealed per subject in the event store; erasing the subject (its key
destroyed) leaves placeholders in every replay while the rest of each event stays."""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

import psycopg
import pytest
from eventsourcing.domain import Aggregate, event

from slotline.events.privacy.keys import LocalKeyEncryptionKeys
from slotline.events.privacy.personal import ERASED, Personal
from slotline.events.privacy.vault import SubjectErased
from slotline.events.store import ServiceApplication, ensure_schema, postgres_env


class Visit(Aggregate):
    """A booking-like aggregate: who (personal) and what (not)."""

    class Made(Aggregate.Created):
        visitor: Personal
        minutes: int

    class Noted(Aggregate.Event):
        note: Personal

    @event(Made)
    def __init__(self, visitor: Personal, minutes: int) -> None:
        self.visitor = visitor
        self.minutes = minutes
        self.notes: list[Personal] = []

    @event(Noted)
    def add_note(self, note: Personal) -> None:
        self.notes.append(note)


class Visits(ServiceApplication):
    name = "visits"
    env: ClassVar[dict[str, str]] = dict(ServiceApplication.env)


def alice() -> Personal:
    return Personal(
        "clinic", "customer-1", {"name": "Alice Papadopoulou", "phone": "+306940000001"}
    )


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
        visit = Visit(alice(), 60)
        visit.add_note(Personal("clinic", "customer-1", {"text": "allergic to lavender"}))
        app.save(visit)
        stored = b"".join(e.state for e in app.recorder.select_events(visit.id))
        assert b"Alice" not in stored
        assert b"6940000001" not in stored
        assert b"lavender" not in stored
        copy: Visit = app.repository.get(visit.id)
        assert copy.visitor["name"] == "Alice Papadopoulou"
        assert copy.notes[0]["text"] == "allergic to lavender"

    def test_after_erasure_a_replay_shows_placeholders_and_keeps_the_rest(self) -> None:
        app = Visits()
        visit = Visit(alice(), 60)
        app.save(visit)
        app.erase("clinic", "customer-1", [visit.id])
        replayed: Visit = app.repository.get(visit.id)
        assert replayed.visitor.is_erased
        assert replayed.visitor["name"] == ERASED
        assert replayed.minutes == 60, "what is not personal stays"

    def test_nothing_new_is_sealed_under_an_erased_subject(self) -> None:
        app = Visits()
        app.save(Visit(alice(), 30))
        app.erase("clinic", "customer-1")
        with pytest.raises(SubjectErased):
            app.save(Visit(alice(), 45))


@pytest.mark.integration
class TestOnPostgres:
    @pytest.fixture
    def visits(self, database_url: str) -> Iterator[Visits]:
        ensure_schema(database_url, "visits")
        app = Visits(env=postgres_env(database_url, "visits"))
        yield app
        app.close()

    def test_the_raw_tables_hold_no_personal_text(self, visits: Visits, database_url: str) -> None:
        visit = Visit(alice(), 60)
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
        visit = Visit(alice(), 60)
        visits.save(visit)
        visits.erase("clinic", "customer-1", [visit.id])
        other = Visits(env=postgres_env(database_url, "visits"))
        try:
            replayed: Visit = other.repository.get(visit.id)
        finally:
            other.close()
        assert replayed.visitor.is_erased
        assert replayed.visitor["phone"] == ERASED
        assert replayed.minutes == 60
