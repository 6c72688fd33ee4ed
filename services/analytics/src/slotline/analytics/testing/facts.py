"""For tests: the fact book kept in memory, so use cases run without PostgreSQL.

:class:`MemoryFactBook` answers as ``live.facts.FactTables`` does: rows merged by
``Merge`` become visible only when the unit of work commits, and a report loads the
records the same SQL selects (``live/facts/queries.py``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from slotline.analytics.domain.facts import (
    BookingFact,
    CallbackFact,
    CallFact,
    FactRow,
    Period,
    RequestFact,
    WaitlistFact,
    WaitlistOfferFact,
)
from slotline.analytics.domain.report import Facts
from slotline.events.unit_of_work import UnitOfWork

Record = dict[str, Any]


class MemoryFactBook:
    """Fact records in dicts, keyed by kind and key (the tables' primary keys)."""

    def __init__(self) -> None:
        self.records: dict[str, dict[tuple[Any, ...], Record]] = {}

    def merge(self, work: UnitOfWork, rows: Sequence[FactRow]) -> None:
        rows = list(rows)
        work.after_commit(lambda: self._merge(rows))

    def _merge(self, rows: Sequence[FactRow]) -> None:
        for kind, key, values in rows:
            record = self.records.setdefault(kind, {}).setdefault(tuple(key.values()), dict(key))
            for column, (value, how) in values.items():
                record[column] = how.meet(record.get(column), value)

    def facts_for(self, tenant_id: str, period: Period) -> Facts:
        def of(kind: str, when: Callable[[Record], bool]) -> list[Record]:
            records = self.records.get(kind, {}).values()
            return [r for r in records if r["tenant_id"] == tenant_id and when(r)]

        def booking(booking_id: Any) -> Record:
            return self.records.get("booking", {}).get((tenant_id, booking_id), {})

        def call(call_id: Any) -> Record:
            return self.records.get("call", {}).get((tenant_id, call_id), {})

        bookings = [
            _booking(r)
            for r in of(
                "booking",
                lambda r: any(
                    r.get(moment) in period
                    for moment in ("confirmed_at", "slot_start", "cancelled_at")
                ),
            )
        ]
        freed = [b.slot_start for b in bookings if b.cancelled_at in period and b.slot_start]
        candidates = (
            [
                _booking(r)
                for r in of(
                    "booking",
                    lambda r: (
                        r.get("confirmed_at") is not None
                        and period.start <= r["confirmed_at"] < max(freed)
                    ),
                )
            ]
            if freed
            else []
        )
        return Facts(
            requests=[
                RequestFact(
                    r["request_id"],
                    r.get("channel"),
                    r.get("requested_at"),
                    booking(r.get("booking_id")).get("confirmed_at"),
                )
                for r in of("booking_request", lambda r: r.get("requested_at") in period)
            ],
            bookings=bookings,
            refill_candidates=candidates,
            calls=[
                CallFact(
                    r["call_id"], r.get("received_at"), r.get("missed_at"), r.get("texted_back_at")
                )
                for r in of("call", lambda r: _first(r, "received_at", "missed_at") in period)
            ],
            callbacks=[
                CallbackFact(
                    r["task_id"],
                    r.get("created_at"),
                    call(r.get("call_id")).get("missed_at"),
                    r.get("deadline"),
                    r.get("first_attempt_at"),
                    r.get("closed_at"),
                )
                for r in of("callback_task", lambda r: r.get("created_at") in period)
            ],
            waitlist=[
                WaitlistFact(**{k: v for k, v in r.items() if k != "tenant_id"})
                for r in of("waitlist_entry", lambda r: any(r.get(m) in period for m in _MOMENTS))
            ],
            waitlist_offers=[
                WaitlistOfferFact(**{k: v for k, v in r.items() if k not in _NOT_OFFER_FACTS})
                for r in of("waitlist_offer", lambda r: r.get("slot_freed_at") in period)
            ],
        )


_MOMENTS = ("joined_at", "offered_at", "claimed_at", "passed_at", "left_at")
_NOT_OFFER_FACTS = ("tenant_id", "entry_id")  # columns the report does not read


def _first(record: Mapping[str, Any], *columns: str) -> Any:
    """SQL's coalesce."""
    return next((record[c] for c in columns if record.get(c) is not None), None)


def _booking(record: Mapping[str, Any]) -> BookingFact:
    return BookingFact(
        record["booking_id"],
        confirmed_at=record.get("confirmed_at"),
        slot_start=record.get("slot_start"),
        slot_end=record.get("slot_end"),
        time_zone=record.get("time_zone"),
        resource_ids=tuple(record.get("resource_ids") or ()),
        cancelled_at=record.get("cancelled_at"),
        cancelled_late=bool(record.get("cancelled_late")),
        completed_at=record.get("completed_at"),
        no_show_at=record.get("no_show_at"),
    )
