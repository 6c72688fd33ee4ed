"""Payments' copy of booking's tier policies (``PolicyDefined``): prices and tax terms.

Booking owns the policy; this read model keeps the latest version per tenant and tier
for quotes and receipts. Each row is written in the inbox batch's unit of work, with the
message's tracking record, so a redelivered definition changes nothing; reads inside a
unit of work see its rows.
"""

from __future__ import annotations

from typing import Any, Protocol, cast

from eventsourcing.postgres import PostgresProcessRecorder
from psycopg import sql
from psycopg.types.json import Jsonb

from slotline.events.contract.booking import PolicyDefined
from slotline.events.contract.common import Money as WireMoney
from slotline.events.store import ServiceApplication
from slotline.events.unit_of_work import UnitOfWork, read_cursor
from slotline.payments.domain.money import Money
from slotline.payments.domain.quote import Requirement, TaxTerms, TierPolicy

_TABLE = """
CREATE TABLE IF NOT EXISTS {table} (
    tenant_id text NOT NULL,
    price_tier text NOT NULL,
    policy jsonb NOT NULL,
    PRIMARY KEY (tenant_id, price_tier))
"""


def _money(value: WireMoney | None) -> Money | None:
    return None if value is None else Money(value.amount_minor, value.currency)


def tier_policy(defined: PolicyDefined) -> TierPolicy:
    """The contract's policy as the domain's value."""
    return TierPolicy(
        price_tier=defined.price_tier,
        price=_money(defined.price),
        tax=TaxTerms(defined.tax_rate_basis_points, defined.taxes_included),
        requirement=Requirement(defined.payment.value),
        deposit=_money(defined.deposit),
        deposit_percent=defined.deposit_percent,
        free_cancellation_hours=defined.free_cancellation_hours,
        late_cancellation_fee=_money(defined.late_cancellation_fee),
        no_show_fee=_money(defined.no_show_fee),
        free_changes=defined.free_changes,
        change_fee=_money(defined.change_fee),
    )


class TierPolicies(Protocol):
    """The port: the latest policy per tenant and tier, kept with the inbox position."""

    def record(self, defined: PolicyDefined, work: UnitOfWork) -> None: ...

    def get(self, tenant_id: str, price_tier: str) -> TierPolicy | None: ...


class MemoryPolicyBook:
    """Policies in memory: use cases tested without PostgreSQL."""

    def __init__(self, application: ServiceApplication) -> None:
        self.application = application
        self._defined: dict[tuple[str, str], PolicyDefined] = {}

    def record(self, defined: PolicyDefined, work: UnitOfWork) -> None:
        def keep() -> None:
            self._defined[(defined.tenant_id, defined.price_tier)] = defined

        work.after_commit(keep)

    def get(self, tenant_id: str, price_tier: str) -> TierPolicy | None:
        defined = self._defined.get((tenant_id, price_tier))
        return None if defined is None else tier_policy(defined)


class PolicyBook:
    """The ``tier_policies`` table in the service's schema."""

    def __init__(self, application: ServiceApplication) -> None:
        self.recorder = cast(PostgresProcessRecorder, application.process_recorder)
        schema = application.schema
        self.table = sql.Identifier(schema, "tier_policies")
        with self.recorder.datastore.transaction(commit=True) as cursor:
            cursor.execute(sql.SQL(_TABLE).format(table=self.table))

    def record(self, defined: PolicyDefined, work: UnitOfWork) -> None:
        statement = sql.SQL(
            "INSERT INTO {} (tenant_id, price_tier, policy) VALUES (%s, %s, %s)"
            " ON CONFLICT (tenant_id, price_tier) DO UPDATE SET policy = EXCLUDED.policy"
        ).format(self.table)
        payload = Jsonb(defined.model_dump(mode="json"))
        work.cursor.execute(statement, (defined.tenant_id, defined.price_tier, payload))

    def get(self, tenant_id: str, price_tier: str) -> TierPolicy | None:
        statement = sql.SQL("SELECT policy FROM {} WHERE tenant_id = %s AND price_tier = %s")
        with read_cursor(self.recorder) as cursor:
            cursor.execute(statement.format(self.table), (tenant_id, price_tier))
            row: dict[str, Any] | None = cursor.fetchone()
        if row is None:
            return None
        return tier_policy(PolicyDefined.model_validate(row["policy"]))
