"""Every process of a service hears each erasure made by another.

An erasure destroys the subject's key in the database at once, but each process keeps
what it decoded: unwrapped keys (for up to the vault's cache time) and aggregates in
its cache (until they are evicted). The process that erases forgets its own copies;
another replica of the service, or its projector, would go on showing the person's
name from memory. So the erasure's transaction NOTIFYs the store's channel (delivered
when it commits, never for one rolled back), and every process LISTENs
(:class:`ErasureNotices`): it forgets the key and drops its cached aggregates (which
of them hold the subject is not known there; erasures are rare, and a cache refills as
it is read). A process that was not listening (starting, or its connection down) may
have missed a notice, so each time the LISTEN is in place it forgets everything it
cached. The notice carries the subject's pseudonymous id, never personal data.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Protocol

import psycopg

from slotline.events.logs import get_logger

log = get_logger(__name__)

Subject = tuple[str, str]
"""(tenant id, subject id): whose key."""


def erasures_channel(schema: str) -> str:
    """The channel a store's erasures are announced on."""
    return f"slotline_erasures_{schema}"


@dataclass(frozen=True)
class ErasureNotice:
    """Whose key was destroyed, and by which process (``origin``: it forgot already)."""

    tenant_id: str
    subject_id: str
    origin: str

    def payload(self) -> str:
        return json.dumps([self.tenant_id, self.subject_id, self.origin])

    @classmethod
    def read(cls, payload: str) -> ErasureNotice:
        """The notice in ``payload``; ``ValueError`` when it is not one."""
        found = json.loads(payload)
        if not (isinstance(found, list) and len(found) == 3):
            raise ValueError(f"not an erasure notice: {payload[:200]!r}")
        tenant_id, subject_id, origin = found
        if not all(isinstance(part, str) for part in found):
            raise ValueError(f"not an erasure notice: {payload[:200]!r}")
        return cls(tenant_id, subject_id, origin)


class Forgetting(Protocol):
    """What a process drops when a subject is erased elsewhere (the service's store)."""

    def erased_elsewhere(self, subject: Subject | None) -> None:
        """``subject`` was erased by another process; None: erasures may have been
        missed, so everything personal that is cached goes."""


class ErasureNotices:
    """A :class:`~slotline.events.channel_watch.ChannelWatch` listener in every process
    with a store: hears the store's erasures."""

    def __init__(self, channel: str, origin: str, store: Forgetting) -> None:
        self.channel = channel
        self.origin = origin
        self.store = store

    async def listening(self, connection: psycopg.AsyncConnection[object]) -> None:
        self.store.erased_elsewhere(None)

    def heard(self, payload: str) -> None:
        try:
            notice = ErasureNotice.read(payload)
        except ValueError as error:  # not ours to read: forget everything, to be safe
            log.warning("unreadable erasure notice", channel=self.channel, error=str(error))
            self.store.erased_elsewhere(None)
            return
        if notice.origin != self.origin:
            self.store.erased_elsewhere((notice.tenant_id, notice.subject_id))
