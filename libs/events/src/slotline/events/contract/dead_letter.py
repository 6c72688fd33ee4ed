"""The record a consumer writes to ``<topic>.dlq`` for a message it could not apply."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel


class DeadLetter(BaseModel):
    reason: str
    error_type: str
    original_topic: str
    original_partition: int | None
    original_offset: int | None
    original_key: str | None
    original_headers: dict[str, str]
    original_payload: str
    failed_at: datetime
    consumer: str
