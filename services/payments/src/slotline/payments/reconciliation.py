"""Reconciliation: compare each recent ledger with what the gateway knows, report the
drift and repair it.

Two kinds of drift: the gateway knows something the ledger does not (a webhook never
arrived, an answer was lost in a crash) — the ledger learns it; and the ledger asked
for a call that never completed (gateway down, a crash before the dispatcher got to it)
— the call is made again with the operation's own key, so it happens at most once.
Run by the background job, ``slotline-payments reconcile`` and ``POST /v1/reconciliations``.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from slotline.events.logs import get_logger
from slotline.events.periodic import PeriodicJob
from slotline.payments.application import PaymentsApplication
from slotline.payments.domain.facts import GatewayFact
from slotline.payments.domain.ledger import Ledger
from slotline.payments.domain.payment import PaymentStatus
from slotline.payments.gateway.executor import perform
from slotline.payments.gateway.port import GatewayRejected, GatewayUnavailable, PaymentAddress

log = get_logger(__name__)

_FINDINGS: dict[type, str] = {
    Ledger.Authorized: "authorisation the ledger missed",
    Ledger.AuthorizedLate: "authorised after it was reported failed (voiding it)",
    Ledger.AuthorizationFailed: "failure the ledger missed",
    Ledger.Captured: "capture the ledger missed",
    Ledger.Voided: "void the ledger missed",
    Ledger.Refunded: "refund the ledger missed",
}
"""What a gateway fact the ledger learns in reconciliation says was missed, by event."""


@dataclass(frozen=True, slots=True)
class Drift:
    """One difference between a ledger and the gateway."""

    booking_id: str
    payment_id: str
    finding: str
    repaired: bool


@dataclass
class Report:
    ledgers_checked: int = 0
    drifts: list[Drift] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        lines = [
            f"drift: booking={d.booking_id} payment={d.payment_id} {d.finding}"
            f" [{'repaired' if d.repaired else 'not repaired'}]"
            for d in self.drifts
        ]
        lines += [f"error: {e}" for e in self.errors]
        lines.append(
            f"reconciled {self.ledgers_checked} ledgers: {len(self.drifts)} drift(s),"
            f" {sum(d.repaired for d in self.drifts)} repaired, {len(self.errors)} error(s)"
        )
        return lines

    def as_json(self) -> dict[str, Any]:
        return {
            "ledgers_checked": self.ledgers_checked,
            "drifts": [_drift_json(d) for d in self.drifts],
            "errors": self.errors,
        }


def _drift_json(drift: Drift) -> dict[str, Any]:
    return {
        "booking_id": drift.booking_id,
        "payment_id": drift.payment_id,
        "finding": drift.finding,
        "repaired": drift.repaired,
    }


class Reconciler:
    """Compares ledgers with the gateway; repairs unless told only to report."""

    def __init__(
        self,
        app: PaymentsApplication,
        *,
        grace_seconds: float = 60.0,
        recent_events: int = 100_000,
        attempts: int = 3,
    ) -> None:
        self.app = app
        self.grace = timedelta(seconds=grace_seconds)
        self.recent_events = recent_events
        self.attempts = attempts

    def run(self, *, repair: bool = True, tenant_id: str | None = None) -> Report:
        """Reconcile every recent ledger (of one tenant, if given); blocking."""
        report = Report()
        for ledger_id in self.app.recent_ledger_ids(self.recent_events):
            ledger: Ledger = self.app.repository.get(ledger_id)
            if tenant_id is not None and ledger.tenant_id != tenant_id:
                continue
            report.ledgers_checked += 1
            try:
                after = self._known_to_gateway(ledger, repair, report)
                self._unfinished_calls(after, repair, report)
            except (GatewayUnavailable, GatewayRejected) as error:
                report.errors.append(f"booking {ledger.booking_id}: {error}")
        for line in report.lines()[-1:]:
            log.info(line, drifts=len(report.drifts))
        return report

    def _known_to_gateway(self, ledger: Ledger, repair: bool, report: Report) -> Ledger:
        """Let the ledger learn what the gateway knows; the ledger as it is (or would be) then."""
        facts: list[GatewayFact] = []
        for payment in ledger.payments.values():
            if payment.token is None or payment.status is PaymentStatus.VOIDED:
                continue  # never reached the gateway, or nothing left there
            address = PaymentAddress(
                ledger.tenant_id, ledger.booking_id, payment.payment_id, payment.reference
            )
            facts += self.app.gateway.state_of(address)
        if not facts:
            return ledger
        if repair:
            caused = self.app.learn(ledger.id, facts)
            after: Ledger = self.app.repository.get(ledger.id)
        else:  # what learning would cause, on a copy that is never saved
            after = copy.deepcopy(ledger)
            terms = self.app.receipt_terms(after)
            for fact in facts:
                after.learn(fact, terms)
            caused = list(after.pending_events)
        for event in caused:
            finding = _FINDINGS.get(type(event))
            if finding:
                payment_id = str(getattr(event, "payment_id", ""))
                report.drifts.append(Drift(ledger.booking_id, payment_id, finding, repair))
        return after

    def _unfinished_calls(self, ledger: Ledger, repair: bool, report: Report) -> None:
        """Calls pending longer than the grace period are made again with their own key."""
        if not ledger.pending or self.app.clock() - ledger.modified_on < self.grace:
            return
        for operation in list(ledger.pending.values()):
            finding = f"{operation.kind.value} requested but never completed"
            if repair:
                fact = perform(
                    self.app.gateway,
                    ledger.tenant_id,
                    ledger.booking_id,
                    operation,
                    attempts=self.attempts,
                )
                self.app.learn(ledger.id, [fact])
                finding += f": made again with its key ({type(fact).__name__.lower()})"
            report.drifts.append(
                Drift(ledger.booking_id, operation.payment_id, finding, repaired=repair)
            )


class ReconciliationJob(PeriodicJob):
    """Runs the reconciler on a fixed interval (a background task)."""

    name = "reconciliation"

    def __init__(self, reconciler: Reconciler, interval_seconds: float) -> None:
        super().__init__(interval_seconds=interval_seconds)
        self.reconciler = reconciler

    def sweep(self) -> int:
        return len(self.reconciler.run().drifts)
