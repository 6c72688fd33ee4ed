"""The record a consumer writes to ``<topic>.dlq`` for a message it could not apply.

Written by every consumer's inbox (``slotline.events.dead_letters``); read by operators
who inspect and replay dead letters. Not a ``Message``: it carries the original record
verbatim, whatever it was, so that nothing about the failure is lost.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field


class DeadLetter(BaseModel):
    """A poison or unprocessable record, with why it failed and where it came from."""

    reason: str = Field(description="What was wrong, e.g. the broken field and rule.")
    error_type: str = Field(description="Class of the failure, e.g. InvalidMessage.")
    original_topic: str = Field(description="The topic the record was read from.")
    original_partition: int | None = Field(description="Its partition, if known.")
    original_offset: int | None = Field(description="Its offset, if known.")
    original_key: str | None = Field(description="Its key (UTF-8, invalid bytes replaced).")
    original_headers: dict[str, str] = Field(description="Its headers, e.g. traceparent.")
    original_payload: str = Field(description="Its value (UTF-8, invalid bytes replaced).")
    failed_at: datetime = Field(description="When the consumer gave up on it, UTC.")
    consumer: str = Field(description="The consumer (service) that could not apply it.")
