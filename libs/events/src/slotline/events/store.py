"""The event store every service uses: an ``eventsourcing`` application on PostgreSQL.

The store is also the outbox (see :mod:`slotline.events.relay`), so each stored domain
event keeps its causal and trace context (``_meta``) for the relay to publish with it.
The process recorder adds a tracking table that the inbox and the relay use to record
positions in the same transaction as their effects.
"""

from __future__ import annotations

from collections.abc import Collection
from copy import deepcopy
from typing import Any, ClassVar, cast
from urllib.parse import parse_qs, unquote, urlparse
from uuid import UUID

import psycopg
from eventsourcing.application import Application, ProcessingEvent
from eventsourcing.domain import DomainEventProtocol
from eventsourcing.persistence import Mapper, ProcessRecorder, StoredEvent, Tracking
from eventsourcing.postgres import PostgresApplicationRecorder
from psycopg import sql

from slotline.events.context import event_metadata

META_ATTRIBUTE = "_meta"


class CausalMapper(Mapper[Any]):
    """Stores each new domain event with the causal and trace context it was made in."""

    def to_stored_event(self, domain_event: DomainEventProtocol[Any]) -> StoredEvent:
        if META_ATTRIBUTE not in vars(domain_event):
            object.__setattr__(domain_event, META_ATTRIBUTE, event_metadata())
        return super().to_stored_event(domain_event)


def event_meta(domain_event: object) -> dict[str, str]:
    """The causal and trace context stored beside ``domain_event`` (empty if none)."""
    return cast(dict[str, str], vars(domain_event).get(META_ATTRIBUTE) or {})


def postgres_env(database_url: str, schema: str, pool_size: int = 5) -> dict[str, str]:
    """Translate a PostgreSQL URL into the ``eventsourcing`` environment variables."""
    url = urlparse(database_url)
    query = parse_qs(url.query)
    host = query.get("host", [url.hostname or "127.0.0.1"])[0]
    return {
        "PERSISTENCE_MODULE": "eventsourcing.postgres",
        "POSTGRES_DBNAME": unquote(url.path.lstrip("/")) or "postgres",
        "POSTGRES_HOST": host,
        "POSTGRES_PORT": str(url.port or query.get("port", ["5432"])[0]),
        "POSTGRES_USER": unquote(url.username or "postgres"),
        "POSTGRES_PASSWORD": unquote(url.password or ""),
        "POSTGRES_SCHEMA": schema,
        "POSTGRES_POOL_SIZE": str(pool_size),
        "POSTGRES_MAX_OVERFLOW": str(pool_size),
        "POSTGRES_CONN_MAX_AGE": "600",
        "POSTGRES_PRE_PING": "y",
        "POSTGRES_LOCK_TIMEOUT": "5",
        "CREATE_TABLE": "y",
    }


def ensure_schema(database_url: str, schema: str) -> None:
    """Create the service's schema: each service owns its own tables."""
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(schema)))


class ServiceApplication(Application[Any]):
    """Base of every service's ``eventsourcing`` application.

    Uses the process recorder (events + tracking in one database) and the causal mapper;
    the aggregate cache is on by default because aggregates such as calendars live long.
    """

    env: ClassVar[dict[str, str]] = {
        "AGGREGATE_CACHE_MAXSIZE": "10000",
        "DEEPCOPY_FROM_AGGREGATE_CACHE": "y",
    }

    def construct_mapper(self) -> Mapper[Any]:
        return CausalMapper(transcoder=self.construct_transcoder())

    def construct_recorder(self) -> ProcessRecorder:
        return self.factory.process_recorder()

    @property
    def process_recorder(self) -> ProcessRecorder:
        return cast(ProcessRecorder, self.recorder)

    def save_tracked(self, *aggregates: Any, tracking: Tracking) -> None:
        """Save ``aggregates`` and record ``tracking`` in one transaction.

        A tracking position already recorded raises ``IntegrityError`` and saves
        nothing: that is how a redelivered message is recognised.
        """
        processing_event: ProcessingEvent[Any] = ProcessingEvent(tracking=tracking)
        processing_event.collect_events(*aggregates)
        recordings = self._record(processing_event)
        self._take_snapshots(processing_event)
        self._notify(recordings)

    def get_many(self, aggregate_ids: Collection[UUID]) -> dict[UUID, Any]:
        """Several aggregates in one query (those that exist): cached copies are
        fast-forwarded with their newer events, the rest replayed from the first."""
        ids = list(dict.fromkeys(aggregate_ids))
        cache = self.repository.cache
        found: dict[UUID, Any] = {}
        for aggregate_id in ids:
            try:
                found[aggregate_id] = deepcopy(cache.get(aggregate_id)) if cache else None
            except KeyError:
                found[aggregate_id] = None
        recorder = cast(PostgresApplicationRecorder, self.recorder)
        statement = sql.SQL(
            "SELECT e.originator_id, e.originator_version, e.topic, e.state"
            " FROM unnest(%s::uuid[], %s::bigint[]) AS known(id, version)"
            " JOIN {}.{} e ON e.originator_id = known.id AND e.originator_version > known.version"
            " ORDER BY e.originator_id, e.originator_version"
        ).format(
            sql.Identifier(recorder.datastore.schema), sql.Identifier(recorder.events_table_name)
        )
        versions = [found[i].version if found[i] is not None else 0 for i in ids]
        with recorder.datastore.transaction(commit=False) as cursor:
            cursor.execute(statement, (ids, versions))
            rows = cursor.fetchall()
        for row in rows:
            stored = StoredEvent(
                originator_id=row["originator_id"],
                originator_version=row["originator_version"],
                topic=row["topic"],
                state=bytes(row["state"]),
            )
            aggregate_id = row["originator_id"]
            event: Any = self.mapper.to_domain_event(stored)
            found[aggregate_id] = event.mutate(found[aggregate_id])
        if cache:
            for aggregate_id, aggregate in found.items():
                if aggregate is not None:
                    cache.put(aggregate_id, deepcopy(aggregate))
        return {i: a for i, a in found.items() if a is not None}
