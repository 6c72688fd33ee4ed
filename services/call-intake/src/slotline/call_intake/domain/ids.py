"""Deterministic aggregate ids: a retried webhook or message finds what it made before."""

from __future__ import annotations

from uuid import NAMESPACE_URL, UUID, uuid5

_ROOT = uuid5(NAMESPACE_URL, "https://slotline.dev/call-intake")


def derived_id(kind: str, tenant_id: str, key: str) -> UUID:
    """The id of the ``kind`` aggregate that ``key`` names in ``tenant_id``."""
    return uuid5(_ROOT, f"{kind}:{tenant_id}:{key}")
