"""One tenant's KPI report for a period: every figure, from the facts that matter to it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from slotline.analytics.domain import kpis
from slotline.analytics.domain.facts import (
    BookingFact,
    CallbackFact,
    CallFact,
    Period,
    RequestFact,
    WaitlistFact,
    WaitlistOfferFact,
)
from slotline.analytics.domain.figures import Durations, Ratio


@dataclass(frozen=True)
class Facts:
    """The fact records a period's report reads (loaded by the store; see facts_for)."""

    requests: list[RequestFact] = field(default_factory=list)
    bookings: list[BookingFact] = field(default_factory=list)
    refill_candidates: list[BookingFact] = field(default_factory=list)
    calls: list[CallFact] = field(default_factory=list)
    callbacks: list[CallbackFact] = field(default_factory=list)
    waitlist: list[WaitlistFact] = field(default_factory=list)
    waitlist_offers: list[WaitlistOfferFact] = field(default_factory=list)


@dataclass(frozen=True)
class KpiReport:
    tenant_id: str
    period_start: datetime
    period_end: datetime
    booking_conversion: dict[str, Ratio]
    time_to_book: Durations
    no_show_rate: Ratio
    cancellation_rate: Ratio
    late_cancellation_rate: Ratio
    same_day_share: Ratio
    refilled_cancellations: Ratio
    time_to_fill: Durations
    missed_call_rate: Ratio
    text_back_coverage: Ratio
    speed_to_lead: Durations
    callbacks_within_sla: Ratio
    callbacks_pending: int
    waitlist: kpis.WaitlistFigures


def kpi_report(tenant_id: str, facts: Facts, period: Period, now: datetime) -> KpiReport:
    refill = kpis.time_to_fill(facts.bookings, facts.refill_candidates, period)
    sla = kpis.callbacks_within_sla(facts.callbacks, period, now)
    return KpiReport(
        tenant_id=tenant_id,
        period_start=period.start,
        period_end=period.end,
        booking_conversion=kpis.booking_conversion(facts.requests, period),
        time_to_book=kpis.time_to_book(facts.requests, period),
        no_show_rate=kpis.no_show_rate(facts.bookings, period),
        cancellation_rate=kpis.cancellation_rate(facts.bookings, period),
        late_cancellation_rate=kpis.late_cancellation_rate(facts.bookings, period),
        same_day_share=kpis.same_day_share(facts.bookings, period),
        refilled_cancellations=refill.filled,
        time_to_fill=refill.time_to_fill,
        missed_call_rate=kpis.missed_call_rate(facts.calls, period),
        text_back_coverage=kpis.text_back_coverage(facts.calls, period),
        speed_to_lead=kpis.speed_to_lead(facts.callbacks, period),
        callbacks_within_sla=sla.within_sla,
        callbacks_pending=sla.pending,
        waitlist=kpis.waitlist(facts.waitlist, facts.waitlist_offers, period),
    )
