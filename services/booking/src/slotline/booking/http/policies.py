"""Policies per price tier (managers set them; staff read them) and the public quote:
the one summary — price, deposit, taxes, cancellation and change terms — a customer
sees before committing."""

from __future__ import annotations

from typing import Annotated, Literal, Self

from fastapi import APIRouter, HTTPException, Path, Query
from pydantic import BaseModel, ConfigDict, Field, StrictBool, model_validator

from slotline.booking.domain.money import Money
from slotline.booking.domain.policy import PaymentRequirement, Policy
from slotline.booking.http.audit_points import POLICY_CHANGE, POLICY_READ
from slotline.booking.http.bookings import TenantPath
from slotline.booking.http.card import Amount, amount
from slotline.booking.http.deps import Bookings, Manager, Staff
from slotline.events.contract.common import Currency
from slotline.events.http_contract import JSON_INTEGER

router = APIRouter(tags=["policies"])

Tier = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_\-]+$")]
Minor = Annotated[int, Field(ge=0, le=10_000_000), JSON_INTEGER]
Percent = Annotated[int, Field(ge=1, le=100), JSON_INTEGER]


class PolicyForm(BaseModel):
    """A tier's policy; amounts in minor units (cents) of ``currency``. A prepayment needs
    ``price_minor``; a deposit is either ``deposit_minor`` or ``deposit_percent`` (which
    needs ``price_minor``); a request that breaks this is refused 422."""

    model_config = ConfigDict(extra="forbid")

    currency: Currency = "EUR"
    payment: Literal["none", "deposit", "prepayment"] = "none"
    price_minor: Minor | None = None
    deposit_minor: Minor | None = None
    deposit_percent: Percent | None = None
    tax_rate_basis_points: Annotated[int, JSON_INTEGER] = Field(default=0, ge=0, le=10000)
    taxes_included: StrictBool = True
    free_cancellation_hours: Annotated[int, JSON_INTEGER] = Field(default=24, ge=0, le=720)
    late_cancellation_fee_minor: Minor | None = None
    no_show_fee_minor: Minor | None = None
    free_changes: Annotated[int, JSON_INTEGER] = Field(default=3, ge=0, le=100)
    change_fee_minor: Minor | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        self.to_policy()  # raises ValueError naming what does not fit
        return self

    def to_policy(self) -> Policy:
        def money(minor: int | None) -> Money | None:
            return Money(minor, self.currency) if minor is not None else None

        return Policy(
            payment=PaymentRequirement(self.payment),
            price=money(self.price_minor),
            deposit=money(self.deposit_minor),
            deposit_percent=self.deposit_percent,
            tax_rate_basis_points=self.tax_rate_basis_points,
            taxes_included=self.taxes_included,
            free_cancellation_hours=self.free_cancellation_hours,
            late_cancellation_fee=money(self.late_cancellation_fee_minor),
            no_show_fee=money(self.no_show_fee_minor),
            free_changes=self.free_changes,
            change_fee=money(self.change_fee_minor),
        )


class Quote(BaseModel):
    price_tier: str
    payment: str
    price: Amount | None
    tax: Amount | None
    taxes_included: bool
    due_now: Amount | None
    free_cancellation_hours: int
    late_cancellation_fee: Amount | None
    no_show_fee: Amount | None
    free_changes: int
    change_fee: Amount | None
    summary: str


def quote(tier: str, policy: Policy) -> Quote:
    tax = policy.price_tax()
    due = policy.amount_due()
    parts = []
    if policy.price is not None:
        parts.append(f"Price {amount(policy.price).text}")  # type: ignore[union-attr]
    if tax is not None:
        word = "incl." if policy.taxes_included else "plus"
        parts.append(f"{word} tax {amount(tax).text}")  # type: ignore[union-attr]
    parts.append(f"pay {amount(due).text} now" if due else "nothing to pay now")  # type: ignore[union-attr]
    parts.append(f"free cancellation up to {policy.free_cancellation_hours} h before")
    if policy.late_cancellation_fee:
        parts.append(f"later {amount(policy.late_cancellation_fee).text}")  # type: ignore[union-attr]
    parts.append(f"{policy.free_changes} free changes")
    return Quote(
        price_tier=tier,
        payment=policy.payment.value,
        price=amount(policy.price),
        tax=amount(tax),
        taxes_included=policy.taxes_included,
        due_now=amount(due),
        free_cancellation_hours=policy.free_cancellation_hours,
        late_cancellation_fee=amount(policy.late_cancellation_fee),
        no_show_fee=amount(policy.no_show_fee),
        free_changes=policy.free_changes,
        change_fee=amount(policy.change_fee),
        summary="; ".join(parts) + ".",
    )


@router.put("/v1/policies/{tier}", response_model=Quote, dependencies=[POLICY_CHANGE])
def define(tier: Tier, form: PolicyForm, principal: Manager, app: Bookings) -> Quote:
    """Set a tier's policy; bookings already made keep the one they were made under."""
    app.define_policy(principal.tenant_id, tier, form.to_policy())
    return quote(tier, form.to_policy())


@router.get("/v1/policies/{tier}", response_model=Quote, dependencies=[POLICY_READ])
def read(tier: Tier, principal: Staff, app: Bookings) -> Quote:
    return quote(tier, app.policy_for(principal.tenant_id, tier))


@router.get("/v1/public/{tenant_id}/quote", response_model=Quote)
def public_quote(
    tenant_id: TenantPath,
    app: Bookings,
    service_id: Annotated[str, Query(min_length=1, max_length=128)],
) -> Quote:
    """What booking ``service_id`` costs and what its terms are, before committing."""
    terms = app.catalog.service(tenant_id, service_id)
    if terms is None:
        raise HTTPException(404, f"service {service_id} is not offered")
    return quote(terms.price_tier, app.policy_for(tenant_id, terms.price_tier))
