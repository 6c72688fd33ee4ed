"""The event store every service uses: an ``eventsourcing`` application on PostgreSQL.

The store is also the outbox (see :mod:`slotline.events.relay`), so each stored domain
event keeps its causal and trace context (``_meta``) for the relay to publish with it.
The process recorder adds a tracking table that the inbox and the relay use to record
positions in the same transaction as their effects.
"""

from __future__ import annotations

import base64
import threading
from collections.abc import Callable, Collection, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, suppress
from copy import deepcopy
from functools import cached_property
from typing import Any, ClassVar, TypeVar, cast
from urllib.parse import parse_qs, unquote, urlparse
from uuid import UUID

import psycopg
from eventsourcing.application import Application, Repository
from eventsourcing.domain import Aggregate, DomainEventProtocol
from eventsourcing.persistence import Mapper, ProcessRecorder, StoredEvent, Tracking, Transcoder
from psycopg import Cursor, sql
from psycopg.rows import DictRow

from slotline.events.aggregate_cache import CopyingRepository, TwoPartCache
from slotline.events.context import META_ATTRIBUTE, event_metadata
from slotline.events.privacy.erasure_notice import Subject
from slotline.events.privacy.fields import open_sealed, seal
from slotline.events.privacy.keys import LocalKeyEncryptionKeys
from slotline.events.privacy.personal import paths_of
from slotline.events.privacy.read_models import ReadModelSeal
from slotline.events.privacy.vault import KeyVault, MemoryKeyVault, SqlKeyVault
from slotline.events.recorder import APPLICATION_NAME_ENV, SlotlineRecorder
from slotline.events.recorder import Factory as SlotlineFactory
from slotline.events.unit_of_work import UnitOfWork, current_work, run_command, unit_of_work

T = TypeVar("T")


class CausalMapper(Mapper[Any]):
    """Stores each new domain event with the causal and trace context it was made in, and
    its personal fields sealed under their subject's key (see :mod:`.privacy.fields`)."""

    def __init__(self, transcoder: Transcoder, vault: Callable[[], KeyVault]) -> None:
        super().__init__(transcoder=transcoder)
        self._vault = vault

    def to_stored_event(self, domain_event: DomainEventProtocol[Any]) -> StoredEvent:
        if META_ATTRIBUTE not in vars(domain_event):
            object.__setattr__(domain_event, META_ATTRIBUTE, event_metadata())
        paths = paths_of(type(domain_event))
        if paths is not None:
            sealed = object.__new__(type(domain_event))
            object.__setattr__(sealed, "__dict__", seal(vars(domain_event), paths, self._vault()))
            domain_event = sealed
        return super().to_stored_event(domain_event)

    def to_domain_event(self, stored_event: StoredEvent) -> DomainEventProtocol[Any]:
        domain_event = super().to_domain_event(stored_event)
        paths = paths_of(type(domain_event))
        if paths is not None:
            opened = open_sealed(vars(domain_event), paths, self._vault())
            object.__setattr__(domain_event, "__dict__", opened)
        return domain_event


def event_meta(domain_event: object) -> dict[str, str]:
    """The causal and trace context stored beside ``domain_event`` (empty if none)."""
    return cast(dict[str, str], vars(domain_event).get(META_ATTRIBUTE) or {})


def postgres_env(
    database_url: str,
    schema: str,
    pool_size: int = 5,
    privacy_key: str | None = None,
    application_name: str | None = None,
) -> dict[str, str]:
    """Translate a PostgreSQL URL into the ``eventsourcing`` environment variables;
    ``application_name`` names the pool's connections in ``pg_stat_activity``."""
    url = urlparse(database_url)
    query = parse_qs(url.query)
    host = query.get("host", [url.hostname or "127.0.0.1"])[0]
    return {
        "PERSISTENCE_MODULE": f"{SlotlineFactory.__module__}:{SlotlineFactory.__qualname__}",
        "POSTGRES_DBNAME": unquote(url.path.lstrip("/")) or "postgres",
        "POSTGRES_HOST": host,
        "POSTGRES_PORT": str(url.port or query.get("port", ["5432"])[0]),
        "POSTGRES_USER": unquote(url.username or "postgres"),
        "POSTGRES_PASSWORD": unquote(url.password or ""),
        "POSTGRES_SCHEMA": schema,
        "POSTGRES_POOL_SIZE": str(pool_size),
        "POSTGRES_MAX_OVERFLOW": str(pool_size),
        "POSTGRES_CONN_MAX_AGE": "600",
        # No round trip before each query: a dead pooled connection fails the query,
        # and eventsourcing's recorders retry it on a fresh one.
        "POSTGRES_PRE_PING": "n",
        "POSTGRES_LOCK_TIMEOUT": "5",
        "CREATE_TABLE": "y",
        "PROCESS_RECORDER_TOPIC": f"{SlotlineRecorder.__module__}:{SlotlineRecorder.__qualname__}",
        **({PRIVACY_KEY_ENV: privacy_key} if privacy_key else {}),
        **({APPLICATION_NAME_ENV: application_name} if application_name else {}),
    }


PRIVACY_KEY_ENV = "PRIVACY_MASTER_KEY"
_DEV_PRIVACY_KEY = b"slotline-development-privacy-key!"  # published: local and tests only


def privacy_master_key(encoded: str | None) -> bytes:
    """The master key from its base64 setting, or the published development key."""
    return base64.b64decode(encoded) if encoded else _DEV_PRIVACY_KEY


def ensure_schema(database_url: str, schema: str) -> None:
    """Create the service's schema: each service owns its own tables. One that exists is
    left as it is (a service's own role may not create schemas: see ``database_roles``)."""
    with psycopg.connect(database_url, autocommit=True) as conn:
        found = conn.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", (schema,))
        if found.fetchone() is None:
            conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(schema)))


class ServiceApplication(Application[Any]):
    """Base of every service's ``eventsourcing`` application.

    Uses the process recorder (events + tracking in one database) and the causal mapper.
    Use cases change state through :meth:`command` (one unit of work, retried on a lost
    race) and read through :meth:`get_many` / :meth:`reading`.

    The aggregate cache holds what a service reads again soon: a booking's aggregates
    within its saga, seconds apart. It is small on purpose. Every cached aggregate is
    a few objects the garbage collector walks on each full pass, and a full pass holds
    the whole process: booking's 10,000 cached bookings made those passes take ~120 ms
    every ~4 s in a five-minute run at 40 bookings/s, against ~10 ms with 1,000
    (``docs/performance.md``). A service whose aggregates are read again over minutes
    (availability's resource days) names them in :attr:`long_lived`; they are cached
    apart, up to ``LONG_LIVED_CACHE_MAXSIZE`` (:class:`~slotline.events.aggregate_cache.
    TwoPartCache`). Operators may override either size.
    """

    env: ClassVar[dict[str, str]] = {
        "AGGREGATE_CACHE_MAXSIZE": "1000",
        "LONG_LIVED_CACHE_MAXSIZE": "10000",
        "DEEPCOPY_FROM_AGGREGATE_CACHE": "y",
    }
    long_lived: ClassVar[tuple[type[Aggregate], ...]] = ()
    """Aggregates read again over minutes or hours rather than within one saga."""
    max_attempts: ClassVar[int] = 8
    """How many lost races a use case of its own survives before ``ContentionTooHigh``."""

    def __init__(self, env: dict[str, str] | None = None) -> None:
        super().__init__(env=env)
        kek = LocalKeyEncryptionKeys(privacy_master_key(self.env.get(PRIVACY_KEY_ENV)))
        recorder = self.recorder
        self.vault: KeyVault = (
            SqlKeyVault(recorder.datastore, self.schema, kek)
            if isinstance(recorder, SlotlineRecorder)
            else MemoryKeyVault(kek)
        )
        self.read_seal = ReadModelSeal(self.vault)
        """Seals the personal columns of this service's read models."""
        self.erasures = 0
        """Erasures this process has made (counted when made and when committed): a unit
        of work that began before one puts nothing it read back in the cache, as it may
        hold personal data opened with a key destroyed since (:meth:`remember`)."""
        self._erasure_order = threading.Lock()
        """Makes an erasure's count and eviction one step, and a work's check of the
        count and its puts another: neither falls between the other's two halves."""

    def erase(self, tenant_id: str, subject_id: str, aggregate_ids: Collection[UUID] = ()) -> None:
        """Erase a subject: its key is destroyed (in the open unit of work, if any), so
        every stored copy of its personal fields reads as a placeholder from now on;
        cached aggregates holding them are dropped here, and the other processes of the
        service hear of it (:mod:`~slotline.events.privacy.erasure_notice`)."""

        def erased() -> None:
            with self._erasure_order:
                self.erasures += 1
                cache = self.repository.cache
                if cache:
                    for aggregate_id in aggregate_ids:
                        with suppress(KeyError):
                            cache.get(aggregate_id, evict=True)

        erased()
        self.vault.destroy(tenant_id, subject_id)
        work = current_work()
        if work is not None:  # destroyed with the work: once more when it is committed
            work.after_commit(erased)
        erased()

    def erased_elsewhere(self, subject: Subject | None) -> None:
        """Another process erased ``subject`` (None: erasures may have been missed): its
        key leaves the vault's cache, and every cached aggregate leaves this process's
        cache (which of them hold the subject is not known here), so each is read again
        and opens what is left to open; a work begun before puts nothing back."""
        self.vault.forget(subject)
        with self._erasure_order:
            self.erasures += 1
            self.forget_cached()

    def construct_repository(self) -> Repository[UUID]:
        """eventsourcing's repository, reading cached aggregates only as copies
        (:class:`~slotline.events.aggregate_cache.CopyingRepository`), its cache in two
        parts: the :attr:`long_lived` kinds apart. ``AGGREGATE_CACHE_MAXSIZE`` empty: no
        cache; otherwise it must be positive (eventsourcing reads 0 as *unbounded*, a
        cache that would grow with every aggregate ever read)."""
        configured = super().construct_repository()
        repository = CopyingRepository(
            event_store=configured.event_store,
            snapshot_store=configured.snapshot_store,
            fastforward=configured.fastforward,
            fastforward_skipping=configured.fastforward_skipping,
            deepcopy_from_cache=configured.deepcopy_from_cache,
        )
        if configured.cache is None:
            return repository
        maxsize = self._cache_size("AGGREGATE_CACHE_MAXSIZE")
        long_maxsize = self._cache_size("LONG_LIVED_CACHE_MAXSIZE", default=maxsize)
        repository.cache = TwoPartCache(maxsize, long_maxsize, self.long_lived)
        return repository

    def _cache_size(self, setting: str, default: int = 0) -> int:
        """A cache size setting (``default`` when empty): a positive number of aggregates,
        else ``ValueError`` naming the setting."""
        size = int(self.env.get(setting) or default)
        if size <= 0:
            raise ValueError(f"{setting} must be a positive number of aggregates; got {size}")
        return size

    def forget_cached(self) -> None:
        """Drop every cached aggregate (after an erasure whose aggregates are not known
        here): each is read again from the store. The repository gets a new, empty cache
        (eventsourcing's ``LRUCache.clear`` resets only the order and keeps the entries)."""
        self.repository.cache = self.construct_repository().cache

    def construct_mapper(self) -> Mapper[Any]:
        return CausalMapper(self.construct_transcoder(), lambda: self.vault)

    def construct_recorder(self) -> ProcessRecorder:
        return self.factory.process_recorder()

    @property
    def process_recorder(self) -> ProcessRecorder:
        return cast(ProcessRecorder, self.recorder)

    @property
    def schema(self) -> str:
        """The PostgreSQL schema holding this service's tables."""
        return self.env.get("POSTGRES_SCHEMA") or "public"

    @property
    def sql_recorder(self) -> SlotlineRecorder:
        """The PostgreSQL recorder (read models and the inbox need it)."""
        if not isinstance(self.recorder, SlotlineRecorder):
            raise RuntimeError("this needs the PostgreSQL store; this one is in memory")
        return self.recorder

    # --- changing state ----------------------------------------------------------------

    def command(
        self,
        act: Callable[[UnitOfWork], T],
        *,
        tracking: Tracking | None = None,
        attempts: int = 8,
    ) -> T:
        """Run a use case's ``act`` in one unit of work (see :mod:`unit_of_work`)."""
        return run_command(self, act, tracking=tracking, attempts=attempts)

    def in_work(self, work: UnitOfWork | None, act: Callable[[UnitOfWork], T]) -> T:
        """``act`` in the caller's unit of work (a batch's, a group's), or as a command
        of its own: the one way a use case runs, whoever calls it."""
        return act(work) if work is not None else self.command(act, attempts=self.max_attempts)

    def unit_of_work(self) -> AbstractContextManager[UnitOfWork]:
        """A unit of work without retries (the inbox's batches retry themselves)."""
        return unit_of_work(self)

    def applied(self, tracking: Tracking) -> bool:
        """Whether a position at or past ``tracking``'s is recorded."""
        position = self.process_recorder.max_tracking_id(tracking.application_name)
        return position is not None and position >= tracking.notification_id

    def remember(self, aggregates: Sequence[Aggregate], since: int | None = None) -> None:
        """Keep a work's committed aggregates (changed or only read) in the cache, not
        copied: a unit of work takes them out again when it reads them
        (:meth:`load_many`), so no two works ever change one instance. ``since``: the
        :attr:`erasures` count when the work began; after an erasure since, nothing is
        kept (the next reader replays, and opens what is left to open)."""
        cache = self.repository.cache
        if not cache:
            return
        with self._erasure_order:
            if since is not None and since != self.erasures:
                return
            for aggregate in aggregates:
                cache.put(aggregate.id, aggregate)

    # --- reading -----------------------------------------------------------------------

    @contextmanager
    def reading(self) -> Iterator[Cursor[DictRow]]:
        """A read-only transaction over this service's tables."""
        with self.sql_recorder.transaction(commit=False) as cursor:
            yield cursor

    @contextmanager
    def reading_once(self) -> Iterator[Cursor[DictRow]]:
        """A cursor for ONE read statement over this service's tables, outside any
        transaction block (:meth:`SlotlineRecorder.alone`): what a query answered by a
        single SELECT needs, without BEGIN and COMMIT, two round trips more."""
        with self.sql_recorder.alone() as cursor:
            yield cursor

    def get_many(self, aggregate_ids: Collection[UUID]) -> dict[UUID, Any]:
        """Several aggregates in one query (those that exist); inside a unit of work of
        this application, as that work sees them."""
        work = current_work()
        if work is not None and work.app is self:
            return work.get_many(aggregate_ids)
        return self.load_many(aggregate_ids)

    @contextmanager
    def borrowing(self, aggregate_ids: Collection[UUID]) -> Iterator[dict[UUID, Any]]:
        """Aggregates to *look at* without copying them (a read model that renders many):
        taken out of the cache for the block, so no unit of work changes them meanwhile,
        and put back after. The block must not change them."""
        work = current_work()
        if work is not None and work.app is self:
            yield work.get_many(aggregate_ids)
            return
        found = self.load_many(aggregate_ids, take=True)
        try:
            yield found
        finally:
            self.remember(list(found.values()))

    def load_many(
        self,
        aggregate_ids: Collection[UUID],
        cursor: Cursor[DictRow] | None = None,
        *,
        take: bool = False,
    ) -> dict[UUID, Any]:
        """Several aggregates in one query: cached ones are fast-forwarded with their
        newer events, the rest replayed from the first (in ``cursor``'s transaction when
        given). On the in-memory store, one by one.

        ``take``: for a unit of work, which will change what it gets: each aggregate is
        taken *out* of the cache instead of copied (a deep copy per read was 10-15 % of
        the booking and availability processes, py-spy at saturation), and the work puts
        back what it committed (:meth:`remember`); a work that fails drops what it took.
        Meanwhile another reader misses and replays from the store: the cache only ever
        holds committed state, perhaps an older version, which a read fast-forwards."""
        ids = list(dict.fromkeys(aggregate_ids))
        recorder = self.recorder
        if not isinstance(recorder, SlotlineRecorder):
            return self._load_one_by_one(ids)
        cache = cast("TwoPartCache | None", self.repository.cache)
        found: dict[UUID, Any] = {}
        for aggregate_id in ids:
            try:
                if not cache:
                    found[aggregate_id] = None
                elif take:
                    found[aggregate_id] = cache.get(aggregate_id, evict=True)
                else:  # copied under its lock: see TwoPartCache.copy
                    found[aggregate_id] = cache.copy(aggregate_id)
            except KeyError:
                found[aggregate_id] = None
        statement = self._load_many_statement
        versions = [found[i].version if found[i] is not None else 0 for i in ids]
        if cursor is None:
            with recorder.alone() as own:  # one statement sees one snapshot
                own.execute(statement, (ids, versions), prepare=True)
                rows = own.fetchall()
        else:
            cursor.execute(statement, (ids, versions), prepare=True)
            rows = cursor.fetchall()
        advanced: set[UUID] = set()
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
            advanced.add(aggregate_id)
        if cache and not take:
            for aggregate_id in advanced:
                if found[aggregate_id] is not None:
                    cache.put(aggregate_id, deepcopy(found[aggregate_id]))
        return {i: a for i, a in found.items() if a is not None}

    @cached_property
    def _load_many_statement(self) -> bytes:
        """Rendered once (psycopg renders a composed statement on every execute); ids
        and versions go in binary (text dumping of the uuid array
        was 3.6 % of availability's api process, py-spy).

        One primary-key range scan per aggregate, whatever the planner thinks of the
        table: as a plain join, the (cached, generic) plan guessed 10 ids and, while the
        table held a few thousand events, hashed them against a sequential scan of the
        whole table — 1 ms a load on average, 3 ms at 2,000 events, and three quarters
        of PostgreSQL's time in ``bench-booking`` at 50/s (auto_explain and
        pg_stat_statements, 2026-12-05). ``LATERAL … OFFSET 0`` keeps the subquery a
        subquery, so it can only be probed per id."""
        recorder = self.sql_recorder
        return (
            sql.SQL(
                "SELECT e.originator_id, e.originator_version, e.topic, e.state"
                " FROM unnest(%b::uuid[], %b::bigint[]) AS known(id, version)"
                " CROSS JOIN LATERAL (SELECT s.originator_id, s.originator_version,"
                " s.topic, s.state"
                " FROM {}.{} s WHERE s.originator_id = known.id"
                " AND s.originator_version > known.version OFFSET 0) e"
                " ORDER BY e.originator_id, e.originator_version"
            )
            .format(
                sql.Identifier(recorder.datastore.schema),
                sql.Identifier(recorder.events_table_name),
            )
            .as_bytes(None)
        )

    def _load_one_by_one(self, ids: list[UUID]) -> dict[UUID, Any]:
        from eventsourcing.application import AggregateNotFoundError

        found: dict[UUID, Any] = {}
        for aggregate_id in ids:
            try:
                found[aggregate_id] = self.repository.get(aggregate_id)
            except AggregateNotFoundError:
                continue
        return found

    # --- kept for code not yet on units of work ---------------------------------------
