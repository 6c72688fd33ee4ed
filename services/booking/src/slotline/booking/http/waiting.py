"""Waiting, bounded, for a booking to reach a state — so a request can answer with the
outcome instead of "accepted" in the common case."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from contextlib import suppress
from uuid import UUID

import anyio

from slotline.booking.application import BookingApplication
from slotline.booking.domain.booking import Booking
from slotline.booking.live.watch import BookingWatch


async def wait_for(
    app: BookingApplication,
    watch: BookingWatch,
    tenant_id: str,
    booking_id: UUID,
    done: Callable[[Booking], bool],
    timeout: float,
) -> Booking:
    """The booking once ``done`` holds for it, or as it is when ``timeout`` runs out."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    with watch.watching(booking_id) as changed:
        while True:
            changed.clear()
            booking = await anyio.to_thread.run_sync(app.booking, tenant_id, booking_id)
            remaining = deadline - loop.time()
            if done(booking) or remaining <= 0:
                return booking
            with suppress(TimeoutError):
                await asyncio.wait_for(changed.wait(), remaining)
