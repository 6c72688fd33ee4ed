"""The analytics service's use cases: record what a public event tells, report the KPIs.

It has no aggregates of its own and publishes nothing: its state is what the public
topics told it, merged into fact records (the read model in ``live/facts``, reached
through the :class:`FactBook` port), and its one query is the report.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import ClassVar, Protocol

from slotline.analytics.domain.facts import FactRow, Period
from slotline.analytics.domain.report import Facts, KpiReport, kpi_report
from slotline.events.store import ServiceApplication
from slotline.events.unit_of_work import UnitOfWork


class FactBook(Protocol):
    """Where the fact records are kept (PostgreSQL: ``live.facts.FactTables``)."""

    def merge(self, work: UnitOfWork, rows: Sequence[FactRow]) -> None:
        """Merge ``rows`` into their records when ``work`` commits (see ``Merge``)."""

    def facts_for(self, tenant_id: str, period: Period) -> Facts:
        """Every committed record that can count towards ``tenant_id``'s ``period``."""


class AnalyticsApplication(ServiceApplication):
    name = "analytics"
    env: ClassVar[dict[str, str]] = dict(ServiceApplication.env)

    def __init__(
        self,
        env: dict[str, str] | None = None,
        *,
        facts: Callable[[ServiceApplication], FactBook],
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        """``facts`` opens the fact book on this application's store."""
        super().__init__(env=env)
        self.clock = clock or (lambda: datetime.now(UTC))
        self.facts = facts(self)

    def record(self, rows: Sequence[FactRow], work: UnitOfWork) -> None:
        """What one public event told, merged into its records with the work (which
        records the event's position: a redelivery is recognised and changes nothing)."""
        self.facts.merge(work, rows)

    def report(self, tenant_id: str, period: Period) -> KpiReport:
        """Every KPI of ``tenant_id`` for ``period``, as the facts stand now."""
        return kpi_report(tenant_id, self.facts.facts_for(tenant_id, period), period, self.clock())
