"""The fact records in PostgreSQL: the analytics read model, fed by the public topics.

:class:`FactTables` is the application's :class:`~slotline.analytics.application.FactBook`
on the service's own schema: its tables (``tables``), the merges a consumed event writes
in the inbox's unit of work, and the records a report loads (``queries``).
"""

from __future__ import annotations

from collections.abc import Sequence

from slotline.analytics.domain.facts import FactRow, Period
from slotline.analytics.domain.report import Facts
from slotline.analytics.live.facts import queries, tables
from slotline.events.store import ServiceApplication
from slotline.events.unit_of_work import UnitOfWork


class FactTables:
    """The fact tables of ``app``'s schema."""

    def __init__(self, app: ServiceApplication) -> None:
        self.app = app

    @classmethod
    def opened(cls, app: ServiceApplication) -> FactTables:
        """The tables, made if missing (the runtime opens stores one process at a time)."""
        with app.sql_recorder.transaction(commit=True) as cursor:
            tables.create_tables(cursor, app.schema)
        return cls(app)

    def merge(self, work: UnitOfWork, rows: Sequence[FactRow]) -> None:
        for table, key, values in rows:
            tables.merge_into(work.cursor, self.app.schema, table, key, values)

    def facts_for(self, tenant_id: str, period: Period) -> Facts:
        with self.app.reading() as cursor:
            return queries.facts_for(cursor, self.app.schema, tenant_id, period)
