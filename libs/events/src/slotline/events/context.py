"""The causal context of the work in progress: which message or request caused it.

Set by the inbox (for a consumed message) and the HTTP layer (for a request); read by
the event store mapper, which stores it beside each domain event so the relay can
give the published integration event its correlation, causation and trace context.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from opentelemetry import propagate


@dataclass(frozen=True, slots=True)
class CausalContext:
    correlation_id: str
    causation_id: str | None = None


META_ATTRIBUTE = "_meta"
"""Where a stored domain event keeps :func:`event_metadata` (domain classes never see it)."""

_current: ContextVar[CausalContext | None] = ContextVar("slotline_causal_context", default=None)


@contextmanager
def caused_by(correlation_id: str | None, causation_id: str | None = None) -> Iterator[None]:
    """Run a block as the consequence of a message or request."""
    token = _current.set(CausalContext(correlation_id or str(uuid.uuid4()), causation_id))
    try:
        yield
    finally:
        _current.reset(token)


def current_trace_headers() -> dict[str, str]:
    """The W3C trace context of the current span, as message headers."""
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    return carrier


def event_metadata() -> dict[str, str]:
    """What the store keeps beside a domain event: causation and trace context."""
    meta = current_trace_headers()
    causal = _current.get()
    if causal is not None:
        meta["correlation_id"] = causal.correlation_id
        if causal.causation_id:
            meta["causation_id"] = causal.causation_id
    return meta
