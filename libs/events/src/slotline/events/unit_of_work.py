"""One unit of work: the one way a service changes its state.

A unit of work is one transaction. It hands out aggregates (each once: a second ``get``
returns the instance already changed), takes new ones, records inbox positions, and may
write a read model's rows with its cursor. On success the rows, every changed
aggregate's new events and the positions commit together; the events table is locked
only for that last insert. A lost race (another writer saved a version first) raises
``eventsourcing.persistence.IntegrityError`` out of the block: :func:`run_command` retries
the whole command on fresh state, the inbox retries its batch.

On the in-memory recorder (unit tests of use cases) the same API works without a
cursor; only read-model rows need PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any, TypeVar, cast
from uuid import UUID

from eventsourcing.domain import Aggregate
from eventsourcing.persistence import IntegrityError, Tracking
from psycopg import Cursor
from psycopg.rows import DictRow
from tenacity import Retrying, retry_if_exception_type, stop_after_attempt, wait_random_exponential

from slotline.events.context import META_ATTRIBUTE, event_metadata
from slotline.events.recorder import SlotlineRecorder

if TYPE_CHECKING:
    from slotline.events.store import ServiceApplication

A = TypeVar("A", bound=Aggregate)
T = TypeVar("T")


_active: ContextVar[UnitOfWork | None] = ContextVar("slotline_unit_of_work", default=None)


def current_work() -> UnitOfWork | None:
    """The unit of work open in this thread's context, if any: reads made while it is
    open go through it (its connection, its changes) — a second connection per
    request could exhaust the pool and deadlock under load."""
    return _active.get()


@contextmanager
def read_cursor(recorder: Any) -> Iterator[Cursor[DictRow]]:
    """A cursor to read ``recorder``'s tables: the open unit of work's when it writes
    there (it sees the work's rows; no second connection), else a read-only one."""
    work = current_work()
    if work is not None and work.app.recorder is recorder and work._cursor is not None:
        yield work._cursor
        return
    with recorder.datastore.transaction(commit=False) as cursor:
        yield cursor


def act_within(work: UnitOfWork, act: Callable[[UnitOfWork], T]) -> T:
    """Run ``act`` with ``work`` as the current one (for a use case run in another
    context than the one that opened the work, e.g. a queued request's)."""
    token = _active.set(work)
    try:
        return act(work)
    finally:
        _active.reset(token)


class AlreadyApplied(Exception):
    """The command's tracking position is recorded already: it was applied before."""


class ContentionTooHigh(RuntimeError):
    """The aggregates kept changing under the command; the caller may try again."""


class UnitOfWork:
    """Aggregates, positions and rows that commit together (see the module doc)."""

    def __init__(self, app: ServiceApplication, cursor: Cursor[DictRow] | None) -> None:
        self.app = app
        self._cursor = cursor
        self._seen: dict[UUID, Aggregate | None] = {}
        self._added: dict[UUID, Aggregate] = {}
        self._opened: dict[UUID, Aggregate] = {}
        self.trackings: list[Tracking] = []
        self._after_commit: list[Callable[[], None]] = []
        self._memo: dict[Hashable, Any] = {}
        self.data_keys: dict[tuple[str, str], bytes] = {}
        """Personal-data keys (tenant, subject) this work's transaction read or made: the
        privacy vault's, valid to the transaction's end (the vault drops one it destroys)."""
        self._handed_out: dict[UUID, Aggregate] = {}
        """Aggregates handed out (or added) since the last :meth:`stamp`: only they can
        have new events to stamp."""
        self._erasures = app.erasures
        """The erasures counted when the work began (see :meth:`ServiceApplication.remember`)."""

    # --- aggregates --------------------------------------------------------------------

    def get(self, kind: type[A], aggregate_id: UUID) -> A | None:
        """The aggregate of type ``kind`` with that id, or None (absent or another type)."""
        found = self.get_many([aggregate_id]).get(aggregate_id)
        return found if isinstance(found, kind) else None

    def get_many(self, aggregate_ids: Iterable[UUID]) -> dict[UUID, Any]:
        """Several aggregates, loading those not seen yet in one query."""
        ids = list(dict.fromkeys(aggregate_ids))
        known = self._added.keys() | self._opened.keys()
        missing = [i for i in ids if i not in self._seen and i not in known]
        if missing:
            loaded = self.app.load_many(missing, cursor=self._cursor, take=True)
            for aggregate_id in missing:
                self._seen[aggregate_id] = loaded.get(aggregate_id)
        found = {i: self._added.get(i) or self._opened.get(i) or self._seen.get(i) for i in ids}
        present = {i: a for i, a in found.items() if a is not None}
        self._handed_out.update(present)
        return present

    def add(self, *aggregates: Aggregate) -> None:
        """New aggregates (or ones not loaded here) to save with the work."""
        for aggregate in aggregates:
            self._opened.pop(aggregate.id, None)
            self._added[aggregate.id] = aggregate
            self._handed_out[aggregate.id] = aggregate

    def open(self, aggregate: Aggregate) -> None:
        """A new aggregate made only to be looked at (an empty calendar day): later
        ``get`` calls of this work find it, and it is saved only if something happens to
        it after it was made — so use cases in one group share it instead of racing."""
        if aggregate.id not in self._added:
            self._opened[aggregate.id] = aggregate
            self._handed_out[aggregate.id] = aggregate

    def changed(self) -> list[Aggregate]:
        """Every aggregate of this work with unsaved events, in the order first met."""
        opened = {i: a for i, a in self._opened.items() if len(a.pending_events) > 1}
        seen = {i: a for i, a in self._seen.items() if a is not None}
        candidates = {**seen, **opened, **self._added}
        return [a for a in candidates.values() if a.pending_events]

    # --- positions, rows, hooks -----------------------------------------------------------

    def recorded_positions(self, names: list[str]) -> dict[str, int]:
        """The recorded position of each of ``names`` that has one, read in this work's
        transaction (no transaction of its own: two round trips fewer per inbox batch)."""
        recorder: Any = self.app.recorder
        if isinstance(recorder, SlotlineRecorder):
            return recorder.positions(names, cursor=self._cursor)
        return {n: p for n in names if (p := recorder.max_tracking_id(n)) is not None}

    def track(self, tracking: Tracking) -> None:
        """Record an inbox position with the work: a repeat makes the commit fail."""
        self.trackings.append(tracking)

    @property
    def cursor(self) -> Cursor[DictRow]:
        """The transaction's cursor, to write a read model's rows (PostgreSQL only). Its
        memos are forgotten: what they read may be what is written (see :meth:`memo`).
        Reads go through :func:`read_cursor`, which forgets nothing."""
        if self._cursor is None:
            raise RuntimeError("rows need the PostgreSQL store; this one is in memory")
        self._memo.clear()
        return self._cursor

    @property
    def key_cursor(self) -> Cursor[DictRow] | None:
        """The transaction's cursor for rows no memo reads (the privacy vault's data
        keys), or None in memory: taking it forgets nothing."""
        return self._cursor

    def memo(self, key: Hashable, read: Callable[[], T]) -> T:
        """``read()`` once per unit of work until it writes: a row every message of a
        batch looks up (a service's terms) costs one round trip per batch, and is read in
        the work's own transaction, so it is as current as the rest of what the work sees.
        Taking :attr:`cursor` to write rows forgets every memo, so a message after one
        that wrote the row reads it again (take the cursor when writing, not before a
        memo is read)."""
        if key not in self._memo:
            self._memo[key] = read()
        return cast(T, self._memo[key])

    def after_commit(self, action: Callable[[], None]) -> None:
        """Run ``action`` once the work has committed (e.g. wake a waiting request)."""
        self._after_commit.append(action)

    def stamp(self, *, everything: bool = False) -> None:
        """Give new events the causal and trace context they are made in now (a batch
        commits later, outside each message's context).

        Called after every message of a batch, it looks only at the aggregates handed
        out since the last call, and at each one's last event (events are stamped in
        order): a batch of holds sees thousands of calendars (py-spy: scanning them all
        after every message was 7-19 % of the api process). ``everything``: all the
        work's aggregates (once, before commit: a handler that kept an aggregate from an
        earlier message still gets its events stamped)."""
        if everything:
            candidates: Iterable[Aggregate | None] = [
                *self._seen.values(),
                *self._opened.values(),
                *self._added.values(),
            ]
        else:
            candidates = self._handed_out.values()
        meta: dict[str, str] | None = None
        for aggregate in candidates:
            if aggregate is None:
                continue
            pending = aggregate.pending_events
            least = 2 if aggregate.id in self._opened else 1  # saved once something happens
            if len(pending) < least or META_ATTRIBUTE in vars(pending[-1]):
                continue
            meta = meta if meta is not None else event_metadata()
            for domain_event in reversed(pending):
                if META_ATTRIBUTE in vars(domain_event):
                    break
                object.__setattr__(domain_event, META_ATTRIBUTE, dict(meta))
        self._handed_out = {}

    # --- commit ------------------------------------------------------------------------------

    def _flush(self) -> list[Aggregate]:
        self.stamp(everything=True)
        aggregates = self.changed()
        events = [e for a in aggregates for e in a.collect_events()]
        stored = [self.app.mapper.to_stored_event(e) for e in events]
        recorder = self.app.recorder
        if self._cursor is not None:
            cast(SlotlineRecorder, recorder).record(self._cursor, stored, self.trackings)
        else:  # in memory: atomic for one position (tests of use cases need no more)
            earlier = self.trackings[:-1]
            last = self.trackings[-1] if self.trackings else None
            for tracking in earlier:
                self.app.process_recorder.insert_tracking(tracking)
            recorder.insert_events(stored, tracking=last)
        return aggregates

    def _committed(self, aggregates: Sequence[Aggregate]) -> None:
        """Put back what the work took out of the cache (all of it is committed state
        now) with what it saved; on failure this is not reached and they are dropped."""
        read = [a for a in self._seen.values() if a is not None]
        self.app.remember([*read, *aggregates], since=self._erasures)
        for action in self._after_commit:
            action()


@contextmanager
def unit_of_work(app: ServiceApplication) -> Iterator[UnitOfWork]:
    """Open a unit of work; it commits when the block ends without an exception."""
    recorder = app.recorder
    transaction: AbstractContextManager[Cursor[DictRow] | None] = nullcontext()  # in memory
    if isinstance(recorder, SlotlineRecorder):
        transaction = recorder.transaction(commit=True)
    with transaction as cursor:
        work = UnitOfWork(app, cursor)
        token = _active.set(work)
        try:
            yield work
            aggregates = work._flush()
        finally:
            _active.reset(token)
    work._committed(aggregates)


def run_command(
    app: ServiceApplication,
    act: Callable[[UnitOfWork], T],
    *,
    tracking: Tracking | None = None,
    attempts: int = 8,
) -> T:
    """Run ``act`` in a unit of work, again on fresh state when a concurrent writer won.

    Raises :class:`AlreadyApplied` when ``tracking`` was recorded before (by this
    message's earlier delivery) and :class:`ContentionTooHigh` after ``attempts`` lost
    races. ``act`` must be a pure function of what it reads: it may run several times.
    """
    retrying = Retrying(
        retry=retry_if_exception_type(IntegrityError),
        stop=stop_after_attempt(attempts),
        wait=wait_random_exponential(multiplier=0.002, max=0.1),
        reraise=True,
    )
    try:
        for attempt in retrying:
            with attempt:
                try:
                    with unit_of_work(app) as work:
                        if tracking is not None:
                            work.track(tracking)
                        result = act(work)
                except IntegrityError:
                    if tracking is not None and app.applied(tracking):
                        raise AlreadyApplied(tracking.application_name) from None
                    raise
                return result
    except IntegrityError as error:
        raise ContentionTooHigh(f"gave up after {attempts} concurrent changes") from error
    raise AssertionError("unreachable: the retry returns or raises")
