"""What the pages ask of each service: one method per question, named as the page
thinks of it. Answers are the services' JSON (their READMEs document the shapes)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx

from slotline.web.clients.upstream import ServiceUnavailable, StreamEvent, Upstream

Json = dict[str, Any]


@dataclass
class Availability:
    upstream: Upstream

    async def slots(
        self,
        token: str,
        *,
        location_id: str,
        service_id: str | None = None,
        start: datetime,
        until: datetime,
        include_booked: bool = False,
        resource_id: str | None = None,
        limit: int = 2000,
    ) -> list[Json]:
        params: Json = {
            "location_id": location_id,
            "from": start.isoformat(),
            "until": until.isoformat(),
            "include_booked": str(include_booked).lower(),
            "limit": limit,
        }
        if service_id:
            params["service_id"] = service_id
        if resource_id:
            params["resource_id"] = resource_id
        found: list[Json] = await self.upstream.json("/v1/slots", token=token, params=params)
        return found

    async def resources(self, token: str, location_id: str) -> list[Json]:
        found: list[Json] = await self.upstream.json(
            f"/v1/locations/{location_id}/resources", token=token
        )
        return found

    def slot_changes(
        self, token: str, location_id: str, service_id: str | None
    ) -> AsyncIterator[StreamEvent]:
        params = {"location_id": location_id}
        if service_id:
            params["service_id"] = service_id
        return self.upstream.events("/v1/slots/stream", token=token, params=params)


@dataclass
class Booking:
    upstream: Upstream

    async def catalog(self, tenant_id: str) -> list[Json]:
        found: list[Json] = await self.upstream.json(f"/v1/public/{tenant_id}/catalog")
        return found

    async def request(self, token: str, form: Json, idempotency_key: str) -> httpx.Response:
        """201 confirmed, 202 under way, 409 refused, 422 a field is wrong."""
        return await self.upstream.call(
            "POST",
            "/v1/bookings",
            token=token,
            json=form,
            headers={"Idempotency-Key": idempotency_key},
        )

    async def join_waitlist(self, tenant_id: str, form: Json, client: str) -> httpx.Response:
        """201 the place card, 409 the line cannot be joined, 422 a field is wrong, 429
        too many from this customer (``client`` is passed on as ``X-Forwarded-For``)."""
        return await self.upstream.call(
            "POST",
            f"/v1/public/{tenant_id}/waitlist",
            json=form,
            headers={"X-Forwarded-For": client},
        )

    async def waitlist_place(self, place_token: str) -> Json | None:
        """The place card of a waitlist link; None when the link is not (or no longer) one."""
        response = await self.upstream.call("GET", f"/v1/waitlist/{place_token}")
        return response.json() if response.status_code == 200 else None

    async def leave_waitlist(self, place_token: str) -> httpx.Response:
        """200 the card (now ``left``), 404 the link is not (or no longer) one."""
        return await self.upstream.call("POST", f"/v1/waitlist/{place_token}/leave")

    async def card(self, manage_token: str) -> Json | None:
        response = await self.upstream.call("GET", f"/v1/manage/{manage_token}")
        return response.json() if response.status_code == 200 else None

    async def terms(self, manage_token: str) -> Json:
        found: Json = await self.upstream.json(f"/v1/manage/{manage_token}/terms")
        return found

    async def manage(self, method: str, manage_token: str, tail: str, **kw: Any) -> httpx.Response:
        """A call on the manage link as it is (the web service passes API clients on)."""
        return await self.upstream.call(method, f"/v1/manage/{manage_token}{tail}", **kw)

    def outcome_changes(self, manage_token: str) -> AsyncIterator[StreamEvent]:
        return self.upstream.events(f"/v1/manage/{manage_token}/events")

    # --- signing staff in: the second factor -------------------------------------

    async def mfa_status(self, token: str) -> Json:
        """``enrolled``, ``required``, ``recovery_codes_left`` of the token's staff member."""
        found: Json = await self.upstream.json("/v1/staff/me/mfa", token=token)
        return found

    async def mfa_enrol(self, token: str) -> httpx.Response:
        """201 a new secret, its URI and recovery codes; 409 one is set up already."""
        return await self.upstream.call("POST", "/v1/staff/me/mfa/enrolment", token=token)

    async def mfa_code(self, token: str, code: str, *, confirming: bool) -> httpx.Response:
        """204 right, 403 wrong, 429 too many wrong ones (Retry-After), 409 no factor."""
        path = "/v1/staff/me/mfa/" + ("enrolment/confirmation" if confirming else "challenge")
        return await self.upstream.call("POST", path, token=token, json={"code": code})

    # --- the front desk (the staff member's own token) ---------------------------

    async def day_sheet(self, token: str, start: datetime, end: datetime) -> list[Json]:
        params = {"start": start.isoformat(), "end": end.isoformat(), "limit": 1000}
        found: list[Json] = await self.upstream.json("/v1/bookings", token=token, params=params)
        return found

    async def booking(self, token: str, booking_id: str) -> Json | None:
        response = await self.upstream.call("GET", f"/v1/bookings/{booking_id}", token=token)
        return response.json() if response.status_code == 200 else None

    async def staff_terms(self, token: str, booking_id: str) -> Json:
        found: Json = await self.upstream.json(f"/v1/bookings/{booking_id}/terms", token=token)
        return found

    async def act(self, token: str, booking_id: str, action: str, **kw: Any) -> httpx.Response:
        """cancel, reschedule, arrived, complete or no-show, as the signed-in staff."""
        return await self.upstream.call(
            "POST", f"/v1/bookings/{booking_id}/{action}", token=token, **kw
        )

    def board_changes(self, token: str) -> AsyncIterator[StreamEvent]:
        return self.upstream.events("/v1/bookings/stream", token=token)

    async def find_customers(self, token: str, text: str) -> list[Json]:
        found: list[Json] = await self.upstream.json(
            "/v1/customers/search", token=token, params={"q": text}
        )
        return found

    async def customer_timeline(self, token: str, customer_id: str) -> Json | None:
        response = await self.upstream.call(
            "GET", f"/v1/customers/{customer_id}/timeline", token=token
        )
        return response.json() if response.status_code == 200 else None


@dataclass
class Payments:
    upstream: Upstream

    async def receipts(self, token: str, booking_id: str) -> list[Json]:
        response = await self.upstream.call(
            "GET", f"/v1/ledgers/{booking_id}/receipts", token=token
        )
        return response.json() if response.status_code == 200 else []

    async def open_intent(
        self, token: str, request_id: str, amount_minor: int, currency: str
    ) -> Json:
        """A PaymentIntent for the Payment Element: ``payment_intent_id``, ``client_secret``."""
        response = await self.upstream.call(
            "POST",
            "/v1/payment-intents",
            token=token,
            json={"request_id": request_id, "amount_minor": amount_minor, "currency": currency},
        )
        if response.status_code != 201:
            raise ServiceUnavailable("payments", f"{response.status_code} {response.text[:200]}")
        found: Json = response.json()
        return found


@dataclass
class CallIntake:
    upstream: Upstream

    async def queue(self, token: str) -> list[Json]:
        found: list[Json] = await self.upstream.json("/v1/callbacks", token=token)
        return found

    async def act(self, token: str, task_id: str, action: str, **kw: Any) -> httpx.Response:
        """claim, attempts or close, as the signed-in staff member."""
        return await self.upstream.call(
            "POST", f"/v1/callbacks/{task_id}/{action}", token=token, **kw
        )

    def queue_changes(self, token: str) -> AsyncIterator[StreamEvent]:
        return self.upstream.events("/v1/callbacks/stream", token=token)


@dataclass
class Services:
    """Every service the pages talk to."""

    availability: Availability
    booking: Booking
    payments: Payments
    call_intake: CallIntake

    async def close(self) -> None:
        for port in (self.availability, self.booking, self.payments, self.call_intake):
            await port.upstream.close()
