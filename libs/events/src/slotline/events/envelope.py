"""The message envelope every Slotline message carries.

An integration event is one pydantic model: the envelope fields plus the event's own
payload fields, serialised flat as JSON. ``event_type`` names the message and
``schema_version`` its version; consumers dispatch on both.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from typing import Any, ClassVar, Final, Self

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    GetJsonSchemaHandler,
    field_validator,
    model_validator,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema

from slotline.events import wire_sealing
from slotline.events.clock import in_utc, utc_now

ALWAYS_WRITTEN: Final = ("event_id", "occurred_at", "sequence")
"""Envelope fields with a default that every Slotline producer writes (``to_json`` dumps
defaults): the schemas of the topics only Slotline writes list them as required."""


class Envelope(BaseModel):
    """Fields common to every message on every topic."""

    # Tolerant reader: a consumer ignores fields added after it was built.
    model_config = ConfigDict(frozen=True, extra="ignore", populate_by_name=True)

    event_id: uuid.UUID = Field(
        default_factory=uuid.uuid4,
        description="Unique id of this message; stable across re-publication of the same event.",
    )
    event_type: str = Field(description="Name of the message type, e.g. 'HoldPlaced'.")
    schema_version: int = Field(ge=1, description="Version of this message type's schema.")
    occurred_at: AwareDatetime = Field(
        default_factory=utc_now, description="When the fact happened, UTC."
    )
    tenant_id: str = Field(min_length=1, max_length=64, description="The business it belongs to.")
    aggregate_id: str = Field(
        min_length=1,
        max_length=128,
        description="Id of the aggregate the message is about; also the Kafka key.",
    )
    sequence: int = Field(
        default=1, ge=0, description="Position of the event in its aggregate's stream."
    )
    correlation_id: str | None = Field(
        default=None, max_length=128, description="Id shared by every message of one flow."
    )
    causation_id: str | None = Field(
        default=None, max_length=128, description="event_id of the message that caused this one."
    )

    @field_validator("occurred_at")
    @classmethod
    def _to_utc(cls, value: datetime) -> datetime:
        return in_utc(value)


class Message(Envelope):
    """Base of every integration event and command.

    Subclasses set ``EVENT_TYPE``, ``SCHEMA_VERSION`` and ``TOPIC`` as class variables;
    the envelope's ``event_type`` and ``schema_version`` default to them.
    """

    EVENT_TYPE: ClassVar[str] = ""
    SCHEMA_VERSION: ClassVar[int] = 1
    TOPIC: ClassVar[str] = ""
    ABSTRACT: ClassVar[bool] = True
    KEY: ClassVar[str] = ""
    """What ``aggregate_id`` (and so the Kafka key) is, for consumers who partition or
    join on it: a template over the message's own fields (``notification:{notification_id}``)
    — checked against published records — or, for an id the payload does not repeat, a
    sentence. Published in the AsyncAPI document."""
    PERSONAL: ClassVar[tuple[str, ...]] = ()
    """Fields holding personal data (names, phones, e-mails, texts, manage links): sealed
    when published, opened when parsed (:mod:`slotline.events.wire_sealing`)."""

    @model_validator(mode="before")
    @classmethod
    def _open_personal(cls, data: Any) -> Any:
        if cls.PERSONAL and isinstance(data, dict):
            return wire_sealing.open_fields(data, cls.EVENT_TYPE, cls.PERSONAL)
        return data

    @classmethod
    def __get_pydantic_json_schema__(
        cls, schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        """A personal field is its plain form or its sealed form (what is published)."""
        return with_sealed_form(handler(schema), handler, cls.PERSONAL, wire_sealing.SCHEMA)

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        """A concrete message is named after its class unless it says otherwise."""
        super().__pydantic_init_subclass__(**kwargs)
        if "ABSTRACT" not in cls.__dict__:
            cls.ABSTRACT = False
        if "EVENT_TYPE" not in cls.__dict__:
            cls.EVENT_TYPE = cls.__name__

    event_type: str = ""
    schema_version: int = 0

    def model_post_init(self, __context: Any) -> None:
        if not self.event_type:
            object.__setattr__(self, "event_type", self.EVENT_TYPE)
        if not self.schema_version:
            object.__setattr__(self, "schema_version", self.SCHEMA_VERSION)
        if self.event_type != self.EVENT_TYPE or self.schema_version != self.SCHEMA_VERSION:
            raise ValueError(
                f"{type(self).__name__} carries event_type={self.EVENT_TYPE!r} "
                f"schema_version={self.SCHEMA_VERSION}, got "
                f"{self.event_type!r} v{self.schema_version}"
            )

    @classmethod
    def caused_by(cls, cause: Envelope, **fields: Any) -> Self:
        """A message caused by ``cause``: same tenant and correlation, causation = cause."""
        fields.setdefault("tenant_id", cause.tenant_id)
        fields.setdefault("correlation_id", cause.correlation_id or str(cause.event_id))
        fields.setdefault("causation_id", str(cause.event_id))
        return cls(**fields)

    def to_json(self) -> bytes:
        """The record's value as published: personal fields sealed."""
        if not self.PERSONAL:
            return self.model_dump_json().encode()
        data = self.model_dump(mode="json")
        wire_sealing.seal_fields(data, self.event_type, self.PERSONAL)
        return json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode()

    def record_headers(self) -> dict[str, str]:
        """The Kafka headers every published message carries: a consumer can route on
        its type and version without reading the body."""
        return {
            "content-type": "application/json",
            "event_type": self.event_type,
            "schema_version": str(self.schema_version),
        }


def with_sealed_form(
    generated: JsonSchemaValue,
    handler: GetJsonSchemaHandler,
    fields: tuple[str, ...],
    sealed: dict[str, Any],
) -> JsonSchemaValue:
    """``generated`` with each of ``fields`` accepting its plain form or ``sealed``."""
    properties = handler.resolve_ref_schema(generated).get("properties", {})
    for name in fields:
        if name in properties:
            plain = properties[name]
            properties[name] = {
                "anyOf": [plain, dict(sealed)],
                "description": plain.get("description", ""),
            }
    return generated
