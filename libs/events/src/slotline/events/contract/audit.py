"""``audit.events.v1`` — who read or changed what, and alerts on unusual access.

Published by every service that holds personal data or configuration (through its
outbox, from its append-only audit trail); read by owners' tooling and security
monitoring. Carries ids, never personal fields. Aggregate: the audit record (one per
access), so records never wait on each other.
"""

from __future__ import annotations

from enum import StrEnum
from typing import ClassVar

from pydantic import AwareDatetime, Field

from slotline.events.contract.common import Id
from slotline.events.envelope import Message
from slotline.events.topics import AUDIT_EVENTS


class AuditEvent(Message):
    TOPIC: ClassVar[str] = AUDIT_EVENTS
    KEY: ClassVar[str] = "the audit record (one per access or alert): its own id, not the item's."
    ABSTRACT: ClassVar[bool] = True


class AccessKind(StrEnum):
    READ = "read"
    CHANGE = "change"


class AccessAudited(AuditEvent):
    """A person (or a channel) read or changed one item."""

    service: str = Field(max_length=64, description="The service that served it.")
    actor: Id = Field(description="The token's subject: a user id, not a role.")
    roles: list[str] = Field(description="The roles the token granted.")
    access: AccessKind = Field(description="Read or change.")
    item_kind: str = Field(max_length=64, description="customer, booking, policy, call plan, …")
    item_id: Id = Field(description="Which one.")
    action: str = Field(max_length=128, description="The operation, e.g. 'GET /v1/customers/{id}'.")
    source_address: str | None = Field(
        default=None, max_length=64, description="The client address (after trusted proxies)."
    )
    at: AwareDatetime = Field(description="When, UTC.")


class UnusualAccessDetected(AuditEvent):
    """One actor read many distinct items of a kind in a short time: look into it."""

    service: str = Field(max_length=64, description="The service that noticed it.")
    actor: Id = Field(description="Who.")
    item_kind: str = Field(max_length=64, description="Of what kind.")
    distinct_items: int = Field(ge=1, description="How many distinct items.")
    window_seconds: int = Field(ge=1, description="Within how long.")
    at: AwareDatetime = Field(description="When it was noticed, UTC.")
