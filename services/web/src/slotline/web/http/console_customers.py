"""Customers: search by name, phone or e-mail; one customer's timeline of calls,
bookings, messages and payments (booking's timeline, which meets them all)."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import Response

from slotline.web.http.console_session import StaffSession
from slotline.web.http.deps import Web
from slotline.web.rendering import render
from slotline.web.timeline_lines import line_text

router = APIRouter(prefix="/console/customers", tags=["console"])


@router.get("")
async def search(request: Request, session: StaffSession, web: Web, q: str = "") -> Response:
    text = q.strip()[:100]
    found = await web.services.booking.find_customers(session.token, text) if len(text) >= 2 else []
    return render(request, "console/customers.html", q=text, found=found)


@router.get("/{customer_id}")
async def customer(customer_id: str, request: Request, session: StaffSession, web: Web) -> Response:
    record = await web.services.booking.customer_timeline(session.token, customer_id)
    if record is None:
        raise HTTPException(404, "no such customer")
    for line in record["timeline"]:
        line["at"] = datetime.fromisoformat(str(line["occurred_at"]))
        line["text"] = line_text(line)
    return render(request, "console/customer.html", customer=record)
