"""``GET /v1/quotes?tier=…``: the summary a customer sees before committing."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from slotline.payments.domain.money import Money
from slotline.payments.domain.quote import quote
from slotline.payments.http.card_guard import refuse_card_numbers
from slotline.payments.http.deps import Payments, Shopper

router = APIRouter(
    prefix="/v1/quotes", tags=["quotes"], dependencies=[Depends(refuse_card_numbers)]
)


class UnknownTier(LookupError):
    """No policy was defined for that price tier."""


def _money(value: Money | None) -> dict[str, Any] | None:
    if value is None:
        return None
    return {"amount_minor": value.amount_minor, "currency": value.currency}


@router.get("")
def get_quote(
    app: Payments,
    caller: Shopper,
    tier: Annotated[str, Query(min_length=1, max_length=64, description="The price tier.")],
) -> dict[str, Any]:
    """Price, taxes, what is charged now and at the visit, and the policy in words."""
    policy = app.policies.get(caller.tenant_id, tier)
    if policy is None:
        raise UnknownTier(f"no policy for price tier {tier!r}")
    offer = quote(policy)
    return {
        "tier": tier,
        "price": {
            "net": _money(offer.net),
            "tax": _money(offer.tax),
            "total": _money(offer.total),
            "tax_rate_basis_points": policy.tax.rate_basis_points,
            "taxes_included": policy.tax.included,
        },
        "payment": policy.requirement.value,
        "due_now": _money(offer.due_now),
        "due_at_visit": _money(offer.due_at_visit),
        "policy": {
            "free_cancellation_hours": policy.free_cancellation_hours,
            "late_cancellation_fee": _money(policy.late_cancellation_fee),
            "no_show_fee": _money(policy.no_show_fee),
            "free_changes": policy.free_changes,
            "change_fee": _money(policy.change_fee),
        },
        "summary": offer.summary(),
    }
