"""``GET /v1/customers/search?q=``: the front desk types a name or part of a number
and picks the customer (then reads their timeline)."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query

from slotline.booking.http.audit_points import CUSTOMER_LOOKUP
from slotline.booking.http.deps import Bookings, Staff
from slotline.booking.live import board

router = APIRouter(prefix="/v1/customers", tags=["customers"])


@router.get("/search", dependencies=[CUSTOMER_LOOKUP])
def search(
    principal: Staff,
    app: Bookings,
    q: Annotated[str, Query(min_length=2, max_length=100, description="Name, phone or e-mail.")],
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> list[dict[str, Any]]:
    """Matching customers by name, phone digits or e-mail, each with their latest
    booking's start; then people who only called or left a lead (``caller``: true, by
    phone digits or the name a lead gave; ``customer_id`` opens their timeline)."""
    schema = app.schema
    with app.process_recorder.datastore.transaction(commit=False) as cursor:  # type: ignore[attr-defined]
        rows = board.find_customers(
            cursor, schema, principal.tenant_id, q.strip(), limit, app.read_seal
        )
    return [
        {"caller": False, **{k: (str(v) if isinstance(v, UUID) else v) for k, v in row.items()}}
        for row in rows
    ]
