"""Rate limits every replica of a service counts together, kept in its PostgreSQL.

The counting is the ``limits`` library's sliding window counter; :class:`PostgresStorage`
is that library's storage interface over one table of the service's own schema
(``<schema>.rate_limits``: a counter per key and window, changed by one upsert that
also decides). A refusal is :class:`TooManyRequests` — 429 with ``Retry-After`` and the
limit — and :func:`limited` is the FastAPI dependency that applies a limit per client
address (the real one behind ``SLOTLINE_TRUSTED_PROXY_HOPS`` proxies).
"""

from __future__ import annotations

import functools
import math
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import Any

from fastapi import HTTPException, Request
from limits import RateLimitItem, parse
from limits.storage.base import SlidingWindowCounterSupport, Storage, TimestampedSlidingWindow
from limits.strategies import SlidingWindowCounterRateLimiter
from psycopg import Cursor, sql
from psycopg import Error as DatabaseError

from slotline.events.side_table import creating

Transaction = Callable[[], AbstractContextManager[Cursor[Any]]]
"""Opens a transaction on the service's database and gives its cursor (committed on exit)."""

__all__ = [
    "PostgresStorage",
    "RateLimit",
    "TooManyRequests",
    "client_address",
    "limited",
    "rate_limited_responses",
    "storage_of",
    "webhooks_limited",
]


class PostgresStorage(Storage, SlidingWindowCounterSupport, TimestampedSlidingWindow):
    """``limits`` storage in ``<schema>.rate_limits``: shared by every process that uses
    the same database. ``transaction`` may be a unit of work's own cursor (then a hit
    commits, or is undone, with that work)."""

    def __init__(
        self,
        transaction: Transaction,
        schema: str,
        *,
        prepared: bool = False,
        sweeps: bool = True,
        statement: Transaction | None = None,
    ) -> None:
        super().__init__()
        self.transaction = transaction
        self.statement = statement
        """A cursor whose statements each commit on their own (autocommit): a hit's row
        lock then lasts one statement on the server, not a round trip to a busy client
        and back (see :meth:`acquire_sliding_window_entry`)."""
        self.table = sql.Identifier(schema, "rate_limits")
        self._table_name = f"{schema}.rate_limits"
        self._ready = prepared
        self._local = threading.local()
        self._swept_at = 0.0 if sweeps else math.inf

    @classmethod
    def on_cursor(cls, cursor: Cursor[Any], schema: str, *, prepared: bool) -> PostgresStorage:
        """A storage writing through an open transaction (a unit of work's: its hits
        commit, or are undone, with that work); ``prepared``: the table is known to exist.
        It leaves sweeping old windows to the service's other storages."""
        return cls(lambda: nullcontext(cursor), schema, prepared=prepared, sweeps=False)

    @property
    def base_exceptions(self) -> type[Exception]:
        return DatabaseError

    @contextmanager
    def _cursor(self) -> Iterator[Cursor[Any]]:
        """A transaction; the table counts as made only once one that made it commits
        (another thread must not read it before: "relation does not exist")."""
        self._local.made = False
        with self.transaction() as cursor:
            yield cursor
        if self._local.made:
            self._ready = True

    def prepare(self) -> None:
        """Make the table now (in a transaction of its own), if it is missing."""
        with self._cursor() as cursor:
            self._prepare(cursor)

    def _prepare(self, cursor: Cursor[Any]) -> None:
        if not self._ready:
            creating(cursor, self._table_name)
            cursor.execute(
                sql.SQL(
                    "CREATE TABLE IF NOT EXISTS {} (key text PRIMARY KEY,"
                    " hits integer NOT NULL, expires_at double precision NOT NULL)"
                ).format(self.table)
            )
            self._local.made = True
        now = time.time()
        if now - self._swept_at > 60:  # windows long over are of no use to anyone
            self._swept_at = now
            cursor.execute(
                sql.SQL("DELETE FROM {} WHERE expires_at < %s").format(self.table), (now,)
            )

    # -- counters (fixed windows) ----------------------------------------------------

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        now = time.time()
        with self._cursor() as cursor:
            self._prepare(cursor)
            cursor.execute(
                sql.SQL(
                    "INSERT INTO {t} AS c (key, hits, expires_at) VALUES (%(key)s, %(amount)s,"
                    " %(expires)s) ON CONFLICT (key) DO UPDATE SET"
                    " hits = CASE WHEN c.expires_at > %(now)s THEN c.hits + %(amount)s"
                    " ELSE %(amount)s END,"
                    " expires_at = CASE WHEN c.expires_at > %(now)s THEN c.expires_at"
                    " ELSE %(expires)s END RETURNING hits"
                ).format(t=self.table),
                {"key": key, "amount": amount, "expires": now + expiry, "now": now},
            )
            row = cursor.fetchone()
        return int(_first(row))

    def _read(self, cursor: Cursor[Any], *keys: str) -> dict[str, tuple[int, float]]:
        cursor.execute(
            sql.SQL(
                "SELECT key, hits, expires_at FROM {} WHERE key = ANY(%s) AND expires_at > %s"
            ).format(self.table),
            (list(keys), time.time()),
        )
        return {
            str(_at(row, 0, "key")): (int(_at(row, 1, "hits")), float(_at(row, 2, "expires_at")))
            for row in cursor.fetchall()
        }

    def get(self, key: str) -> int:
        with self._cursor() as cursor:
            self._prepare(cursor)
            return self._read(cursor, key).get(key, (0, 0.0))[0]

    def get_expiry(self, key: str) -> float:
        with self._cursor() as cursor:
            self._prepare(cursor)
            return self._read(cursor, key).get(key, (0, time.time()))[1]

    def check(self) -> bool:
        with self._cursor() as cursor:
            cursor.execute("SELECT 1")
        return True

    def reset(self) -> int | None:
        with self._cursor() as cursor:
            self._prepare(cursor)
            cursor.execute(sql.SQL("DELETE FROM {}").format(self.table))
            return cursor.rowcount

    def clear(self, key: str) -> None:
        with self._cursor() as cursor:
            self._prepare(cursor)
            cursor.execute(sql.SQL("DELETE FROM {} WHERE key = %s").format(self.table), (key,))

    # -- the sliding window counter ----------------------------------------------------

    def acquire_sliding_window_entry(
        self, key: str, limit: int, expiry: int, amount: int = 1
    ) -> bool:
        """Count ``amount`` in the current window if the previous window's share plus the
        current count stays within ``limit`` — decided in the one upsert, under the
        current window's row lock, so concurrent replicas never both take the last hit."""
        if amount > limit:
            return False
        now = time.time()
        previous_key, current_key = self.sliding_window_keys(key, expiry, now)
        # The upsert locks the window's row until its transaction ends. In a transaction
        # of its own the lock outlived the statement by a round trip to the client (the
        # COMMIT), and one address's requests queued on it: 200 customers of one network
        # in a burst waited ~1 s more for their answers (bench-booking, 2026-12-05).
        quick = self.statement is not None and self._ready and now - self._swept_at <= 60
        with self.statement() if quick and self.statement else self._cursor() as cursor:
            if not quick:
                self._prepare(cursor)
            # One statement reads the previous window's count and counts the hit: the
            # two used to be two round trips on every limited request.
            cursor.execute(
                self._acquire,
                {
                    "key": current_key,
                    "previous": previous_key,
                    "now": now,
                    "weight": _previous_ttl(now, expiry) / expiry,
                    "amount": amount,
                    "expires": now + 2 * expiry,
                    "limit": limit,
                },
            )
            return cursor.fetchone() is not None

    @functools.cached_property
    def _acquire(self) -> bytes:
        """The hit, if the previous window's weighted share plus the current count
        leaves room (the previous window's row is read in the same statement)."""
        carried = sql.SQL(
            "coalesce((SELECT p.hits FROM {t} AS p WHERE p.key = %(previous)s"
            " AND p.expires_at > %(now)s), 0) * %(weight)s"
        ).format(t=self.table)
        return (
            sql.SQL(
                "INSERT INTO {t} AS c (key, hits, expires_at)"
                " SELECT %(key)s, %(amount)s, %(expires)s"
                " WHERE floor({carried}) + %(amount)s <= %(limit)s"
                " ON CONFLICT (key) DO UPDATE SET hits = c.hits + %(amount)s"
                " WHERE floor({carried} + c.hits) + %(amount)s <= %(limit)s"
                " RETURNING hits"
            )
            .format(t=self.table, carried=carried)
            .as_bytes(None)
        )

    def get_sliding_window(self, key: str, expiry: int) -> tuple[int, float, int, float]:
        now = time.time()
        previous_key, current_key = self.sliding_window_keys(key, expiry, now)
        with self._cursor() as cursor:
            self._prepare(cursor)
            found = self._read(cursor, previous_key, current_key)
        previous = found.get(previous_key, (0, 0.0))[0]
        current = found.get(current_key, (0, 0.0))[0]
        previous_ttl = _previous_ttl(now, expiry) if previous else 0.0
        current_ttl = (1 - ((now / expiry) % 1)) * expiry + expiry
        return previous, previous_ttl, current, current_ttl

    def clear_sliding_window(self, key: str, expiry: int) -> None:
        for window in self.sliding_window_keys(key, expiry, time.time()):
            self.clear(window)


def _previous_ttl(now: float, expiry: int) -> float:
    """How much of the previous window still overlaps the moving one (as ``limits``)."""
    return (1 - (((now - expiry) / expiry) % 1)) * expiry


def _first(row: Any) -> Any:
    return _at(row, 0, "hits")


def _at(row: Any, index: int, name: str) -> Any:
    return row[name] if isinstance(row, dict) else row[index]


class TooManyRequests(HTTPException):
    """429: the limit, and when to try again (``Retry-After``, seconds)."""

    def __init__(self, limit: RateLimitItem, retry_after: int, what: str) -> None:
        described = str(limit)
        super().__init__(
            429,
            detail=f"too many {what}: at most {described}; retry in {retry_after} s",
            headers={"Retry-After": str(retry_after), "X-RateLimit-Limit": described},
        )


class RateLimit:
    """One limit (``limits`` syntax, e.g. ``30/minute``) over a shared storage."""

    def __init__(self, storage: Storage, limit: str, name: str) -> None:
        self.item: RateLimitItem = parse(limit)
        self.name = name
        self.limiter = SlidingWindowCounterRateLimiter(storage)

    @staticmethod
    def validate(limit: str) -> None:
        """Raise ValueError unless ``limit`` is in ``limits`` syntax (``10/day``)."""
        parse(limit)

    def hit(self, *identifiers: str, cost: int = 1) -> int | None:
        """None when this hit (of ``cost`` requests) is allowed, else the seconds to wait."""
        if self.limiter.hit(self.item, self.name, *identifiers, cost=cost):
            return None
        stats = self.limiter.get_window_stats(self.item, self.name, *identifiers)
        return max(1, math.ceil(stats.reset_time - time.time()))

    def clear(self, *identifiers: str) -> None:
        """Forget what was counted (an operator letting an address in again)."""
        self.limiter.clear(self.item, self.name, *identifiers)

    def check(self, *identifiers: str, what: str = "requests") -> None:
        """Count a hit, or raise :class:`TooManyRequests`."""
        wait = self.hit(*identifiers)
        if wait is not None:
            raise TooManyRequests(self.item, wait, what)


def client_address(request: Request, trusted_hops: int) -> str:
    """The client's address: the socket's peer, or — behind ``trusted_hops`` proxies that
    each append the address they saw to ``X-Forwarded-For`` — the entry the outermost
    trusted proxy appended. Entries further left are the client's say and not trusted."""
    peer = request.client.host if request.client else "unknown"
    if trusted_hops <= 0:
        return peer
    forwarded = ",".join(request.headers.getlist("x-forwarded-for"))
    chain = [hop.strip() for hop in forwarded.split(",") if hop.strip()] + [peer]
    return chain[max(0, len(chain) - 1 - trusted_hops)]


def limited(
    name: str, limit_of: Callable[[Any], str], what: str = "requests"
) -> Callable[[Request], None]:
    """A FastAPI dependency: each request counts against its client address's share of
    the service setting ``limit_of(settings)`` (and its ``tenant_id`` path parameter's,
    when there is one), in the service's shared storage; over it, 429.

    A sync function: FastAPI runs it in a worker thread, as the database asks."""

    def dependency(request: Request) -> None:
        runtime = request.app.state.runtime
        settings = runtime.settings
        limits = _limits(request)
        limit = limits.get(name)
        if limit is None:
            storage = limits_storage(request, runtime)
            limit = limits[name] = RateLimit(storage, limit_of(settings), name)
        client = client_address(request, settings.trusted_proxy_hops)
        limit.check(client, str(request.path_params.get("tenant_id", "")), what=what)

    dependency.__name__ = f"rate_limit_{name}"
    return dependency


def _webhook_limit(settings: Any) -> str:
    return str(settings.webhook_rate_limit)


webhooks_limited = limited("webhooks", _webhook_limit, "webhook calls from this address")
"""The dependency of providers' webhook routes (``SLOTLINE_WEBHOOK_RATE_LIMIT``): generous,
since webhooks are signed; it stops a flood before any signature is computed."""


def _limits(request: Request) -> dict[str, RateLimit]:
    found: dict[str, RateLimit] | None = getattr(request.app.state, "rate_limits", None)
    if found is None:
        found = request.app.state.rate_limits = {}
    return found


def limits_storage(request: Request, runtime: Any) -> PostgresStorage:
    """The app's storage, over its service's database (made once)."""
    storage: PostgresStorage | None = getattr(request.app.state, "rate_limit_storage", None)
    if storage is None:
        application = runtime.application
        if application is None:
            raise RuntimeError("the service's store is not open yet")
        storage = request.app.state.rate_limit_storage = storage_of(application)
    return storage


def storage_of(application: Any) -> PostgresStorage:
    """A storage over a service application's database and schema: each hit a single
    autocommitted statement once the table is there."""
    recorder = application.sql_recorder
    return PostgresStorage(
        lambda: recorder.transaction(commit=True),
        application.schema,
        statement=recorder.datastore.cursor,
    )


def rate_limited_responses() -> dict[int | str, dict[str, Any]]:
    """``responses=`` of a rate-limited route: its 429 and the headers that come with it."""
    return {
        429: {
            "description": "Too many requests from this address; retry after the time in"
            " Retry-After.",
            "headers": {
                "Retry-After": {
                    "description": "Seconds until a request may succeed.",
                    "schema": {"type": "integer"},
                },
                "X-RateLimit-Limit": {
                    "description": "The limit, e.g. `30 per 1 minute`.",
                    "schema": {"type": "string"},
                },
            },
        }
    }
