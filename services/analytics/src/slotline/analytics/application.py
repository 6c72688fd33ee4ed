"""The analytics service's store: its own tables, the inbox's tracking, the KPI reports.

It has no aggregates of its own and publishes nothing: its state is what the public
topics told it, merged into fact tables (see ``recording``), and its one use case is
the report.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, ClassVar

from slotline.analytics import queries, tables
from slotline.analytics.domain.facts import Period
from slotline.analytics.domain.report import KpiReport, kpi_report
from slotline.events.store import ServiceApplication


class AnalyticsApplication(ServiceApplication):
    name = "analytics"
    env: ClassVar[dict[str, str]] = dict(ServiceApplication.env)

    def __init__(
        self, env: dict[str, str] | None = None, clock: Callable[[], datetime] | None = None
    ) -> None:
        super().__init__(env=env)
        self.clock = clock or (lambda: datetime.now(UTC))
        with self.datastore.transaction(commit=True) as cursor:
            tables.create_tables(cursor, self.schema)

    @property
    def datastore(self) -> Any:
        return getattr(self.process_recorder, "datastore")  # noqa: B009 — PostgreSQL only

    def report(self, tenant_id: str, period: Period) -> KpiReport:
        """Every KPI of ``tenant_id`` for ``period``, as the facts stand now."""
        with self.datastore.transaction(commit=False) as cursor:
            facts = queries.facts_for(cursor, self.schema, tenant_id, period)
        return kpi_report(tenant_id, facts, period, self.clock())
