"""JSON Schemas and the AsyncAPI document of the public contract, generated from code.

The files are committed (``libs/events/schemas``) so that a change to a message shows
up in review and ``slotline-events schema --check`` can hold it against the guard in
``slotline.events.compat``. Output is deterministic: sorted keys, 2-space indent.
"""

from __future__ import annotations

import inspect
import json
import sys
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import GenerateJsonSchema, JsonSchemaValue, models_json_schema
from pydantic_core import core_schema

from slotline.events.contract.dead_letter import DeadLetter
from slotline.events.contract.registry import MESSAGES, messages_on
from slotline.events.envelope import ALWAYS_WRITTEN, Message
from slotline.events.keys import template_fields
from slotline.events.topics import ALL_TOPICS, WRITTEN_OUTSIDE, dead_letter_topic

DRAFT = "https://json-schema.org/draft/2020-12/schema"
KAFKA_BINDING_VERSION = "0.5.0"

_TRACE_HEADERS = {
    "traceparent": {"type": "string", "description": "W3C trace context of the producer."},
    "tracestate": {"type": "string", "description": "W3C vendor trace state."},
}
_HEADERS = {
    "type": "object",
    "description": "Kafka record headers; a consumer needs none of them to read the payload.",
    "properties": {
        **_TRACE_HEADERS,
        "content-type": {"const": "application/json", "description": "Always JSON."},
        "event_type": {"type": "string", "description": "The payload's event_type."},
        "schema_version": {
            "type": "string",
            "description": "The payload's schema_version, as text (a header is bytes).",
        },
        "correlation_id": {
            "type": "string",
            "description": "The payload's correlation_id (a flow's first message: its event_id).",
        },
    },
}
_DEAD_LETTER_HEADERS = {
    "type": "object",
    "description": "The original record's headers, plus why and by whom it was set aside. "
    "Key: the original record's key. Each consuming service writes its own letters (a "
    "message refused by two services makes two letters); slotline.outbox.dlq holds the "
    "stored events a service's relay could not map, with their place in its log.",
    "properties": {
        **_TRACE_HEADERS,
        "dlq_reason": {"type": "string", "maxLength": 500, "description": "Why, in one line."},
        "dlq_consumer": {
            "type": "string",
            "description": "Who set it aside: a consumer group, or '<service>-relay'.",
        },
        "correlation_id": {"type": "string", "description": "The original record's."},
        "service": {"type": "string", "description": "Outbox letters: the service."},
        "notification_id": {
            "type": "string",
            "description": "Outbox letters: the stored event's position in the service's log.",
        },
        "originator_id": {"type": "string", "description": "Outbox letters: the aggregate."},
        "originator_version": {
            "type": "string",
            "description": "Outbox letters: the aggregate's version at that event.",
        },
    },
}


_NO_NUL = {"pattern": "\\u0000"}  # a NUL is refused by every consumer (slotline.events.text)


class ContractJsonSchema(GenerateJsonSchema):
    """Pydantic's JSON Schema plus the rules the contract's parser adds to every string."""

    def str_schema(self, schema: core_schema.StringSchema) -> JsonSchemaValue:
        return {**super().str_schema(schema), "not": dict(_NO_NUL)}


def _pin_identity(schema: dict[str, Any], cls: type[Message]) -> dict[str, Any]:
    """``event_type`` and ``schema_version`` are constants of the type, and required; so
    are the envelope fields always written on a topic only Slotline writes."""
    props = schema.setdefault("properties", {})
    props["event_type"] = {"const": cls.EVENT_TYPE, "type": "string", "title": "Event Type"}
    props["schema_version"] = {"const": cls.SCHEMA_VERSION, "type": "integer"}
    required = set(schema.get("required", [])) | {"event_type", "schema_version"}
    if cls.TOPIC not in WRITTEN_OUTSIDE:
        required |= set(ALWAYS_WRITTEN)
    schema["required"] = sorted(required)
    return schema


def json_schema(cls: type[Message]) -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of one message type."""
    generated = cls.model_json_schema(mode="validation", schema_generator=ContractJsonSchema)
    schema = _pin_identity(generated, cls)
    return {
        "$schema": DRAFT,
        "$id": f"urn:slotline:{cls.TOPIC}:{cls.EVENT_TYPE}:v{cls.SCHEMA_VERSION}",
        "x-topic": cls.TOPIC,
        **schema,
    }


def message_key(cls: type[BaseModel]) -> str:
    """The message's id in the AsyncAPI document, e.g. ``HoldPlaced.v1``."""
    if issubclass(cls, Message):
        return f"{cls.EVENT_TYPE}.v{cls.SCHEMA_VERSION}"
    return cls.__name__


def _summary(cls: type[BaseModel]) -> str:
    doc = inspect.getdoc(cls) if "__doc__" in vars(cls) and cls.__doc__ else ""
    return doc.splitlines()[0] if doc else ""


def _topic_description(topic: str) -> str:
    """The first paragraph of each contract module that defines messages on ``topic``."""
    modules = dict.fromkeys(cls.__module__ for cls in messages_on(topic))
    paragraphs = [(inspect.getdoc(sys.modules[m]) or "").split("\n\n")[1:2] for m in modules]
    text = " ".join(p[0].replace("\n", " ") for p in paragraphs if p)
    keys: dict[str, list[str]] = {}
    for cls in messages_on(topic):
        keys.setdefault(_key_text(cls), []).append(cls.__name__)
    listed = "; ".join(f"for {', '.join(names)}: {key}" for key, names in keys.items())
    return (
        f"{text} Key: the envelope's aggregate_id, so one aggregate's messages stay in "
        f"order. It is, {listed}."
    )


def _key_text(cls: type[Message]) -> str:
    """A type's documented key as a reader sees it: a template in backquotes."""
    if template_fields(cls.KEY):
        return f"`{cls.KEY}`"
    return cls.KEY.rstrip(".")


def _message(model: type[BaseModel], payload: dict[str, Any]) -> dict[str, Any]:
    described: dict[str, Any] = {
        "name": message_key(model),
        "title": model.__name__,
        "summary": _summary(model),
        "contentType": "application/json",
        "payload": payload,
        "headers": _HEADERS if issubclass(model, Message) else _DEAD_LETTER_HEADERS,
    }
    if issubclass(model, Message):
        described["correlationId"] = {
            "description": "Shared by every message of one flow.",
            "location": "$message.payload#/correlation_id",
        }
        described["bindings"] = {
            "kafka": {
                "key": {
                    "type": "string",
                    "description": f"The aggregate_id: {_key_text(model)}.",
                },
                "bindingVersion": KAFKA_BINDING_VERSION,
            }
        }
    return described


def _channels() -> list[tuple[str, str, str, list[type[BaseModel]]]]:
    """(channel id, address, description, messages) for every topic and its DLQ."""
    channels: list[tuple[str, str, str, list[type[BaseModel]]]] = []
    for topic in ALL_TOPICS:
        dlq = dead_letter_topic(topic)
        carried: list[type[BaseModel]] = list(messages_on(topic))
        channels.append((topic.replace(".", "_"), topic, _topic_description(topic), carried))
        dead = f"Records of {topic} that a consumer could not apply, with the reason."
        channels.append((dlq.replace(".", "_"), dlq, dead, [DeadLetter]))
    return channels


def asyncapi_document() -> dict[str, Any]:
    """An AsyncAPI 3.0 document: every topic and DLQ, every message and its payload."""
    models: list[type[BaseModel]] = [*MESSAGES.values(), DeadLetter]
    template = "#/components/schemas/{model}"
    refs, definitions = models_json_schema(
        [(m, "validation") for m in MESSAGES.values()],
        ref_template=template,
        schema_generator=ContractJsonSchema,
    )
    # A letter keeps the refused record as it came, NUL included: no contract rules.
    letter_refs, letter_definitions = models_json_schema(
        [(DeadLetter, "validation")], ref_template=template
    )
    refs = {**refs, **letter_refs}
    schemas: dict[str, Any] = {**definitions["$defs"], **letter_definitions["$defs"]}
    for cls in MESSAGES.values():
        _pin_identity(schemas[refs[(cls, "validation")]["$ref"].rsplit("/", 1)[1]], cls)
    messages = {message_key(m): _message(m, refs[(m, "validation")]) for m in models}
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    for channel_id, address, description, carried in _channels():
        channels[channel_id] = {
            "address": address,
            "description": description,
            "messages": {
                message_key(m): {"$ref": f"#/components/messages/{message_key(m)}"} for m in carried
            },
        }
        for action in ("send", "receive"):
            operations[f"{action}_{channel_id}"] = {
                "action": action,
                "channel": {"$ref": f"#/channels/{channel_id}"},
                "messages": [
                    {"$ref": f"#/channels/{channel_id}/messages/{message_key(m)}"} for m in carried
                ],
            }
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "Slotline public event streams",
            "version": "1.0.0",
            "description": (
                "Every message carries the envelope (event_id, event_type, schema_version, "
                "occurred_at, tenant_id, aggregate_id, sequence, correlation_id, causation_id); "
                "trace context travels in the W3C traceparent header. A schema change that "
                "would break a consumer gets a new schema_version beside the old one."
            ),
        },
        "defaultContentType": "application/json",
        "channels": channels,
        "operations": operations,
        "components": {"messages": messages, "schemas": schemas},
    }


def _dump(data: dict[str, Any]) -> str:
    return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def rendered_schemas() -> dict[str, str]:
    """Relative path → file content of everything ``write_schemas`` writes."""
    files = {
        f"{cls.TOPIC}/{cls.EVENT_TYPE}.v{cls.SCHEMA_VERSION}.json": _dump(json_schema(cls))
        for cls in MESSAGES.values()
    }
    files["dead-letters/DeadLetter.json"] = _dump(
        {
            "$schema": DRAFT,
            "$id": "urn:slotline:dead-letters:DeadLetter",
            "x-topics": "<topic>.dlq for every topic, and slotline.outbox.dlq",
            **DeadLetter.model_json_schema(mode="validation"),
        }
    )
    files["asyncapi.json"] = _dump(asyncapi_document())
    return files


def write_schemas(out_dir: Path) -> list[Path]:
    """Write every schema under ``out_dir`` and remove files no longer generated."""
    files = rendered_schemas()
    written = []
    for relative, content in sorted(files.items()):
        path = out_dir / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists() or path.read_text() != content:
            path.write_text(content)
        written.append(path)
    for stale in out_dir.rglob("*.json"):
        if stale.relative_to(out_dir).as_posix() not in files:
            stale.unlink()
    return written
