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
from slotline.booking.live.watch import BookingWatch, Watched


async def wait_for(
    app: BookingApplication,
    watch: BookingWatch,
    tenant_id: str,
    booking_id: UUID,
    done: Callable[[Booking], bool],
    timeout: float,
) -> Booking:
    """The booking once ``done`` holds for it, or as it is when ``timeout`` runs out."""
    with watch.watching(booking_id) as watched:
        return await wait_watched(app, watched, tenant_id, booking_id, done, timeout)


async def wait_watched(
    app: BookingApplication,
    watched: Watched,
    tenant_id: str,
    booking_id: UUID,
    done: Callable[[Booking], bool],
    timeout: float,
    *,
    undone: bool = False,
) -> Booking:
    """:func:`wait_for` with the watch registered by the caller. ``undone``: the caller
    knows ``done`` does not hold yet (it has just written the booking, with the watch
    registered before), so the first read is the watch's. Each change brings the
    booking as the watch loaded it: no read of its own."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout

    async def read() -> Booking:
        watched.changed.clear()
        return await anyio.to_thread.run_sync(app.booking, tenant_id, booking_id)

    booking = None if undone else await read()
    while True:
        remaining = deadline - loop.time()
        if booking is not None and (done(booking) or remaining <= 0):
            return booking
        if remaining > 0:
            with suppress(TimeoutError):
                await asyncio.wait_for(watched.changed.wait(), remaining)
            booking = watched.news()
            if booking is not None:
                continue
        booking = await read()  # timed out, or the watch could not load it
