"""JSON Schemas and the AsyncAPI document of the public contract, generated from code."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from slotline.events.contract.dead_letter import DeadLetter
from slotline.events.contract.registry import MESSAGES, messages_on
from slotline.events.envelope import Message
from slotline.events.topics import ALL_TOPICS, dead_letter_topic

DRAFT = "https://json-schema.org/draft/2020-12/schema"


def _pin_identity(schema: dict[str, Any], cls: type[Message]) -> dict[str, Any]:
    """``event_type`` and ``schema_version`` are constants of the type, and required."""
    props = schema.setdefault("properties", {})
    props["event_type"] = {"const": cls.EVENT_TYPE, "type": "string", "title": "Event Type"}
    props["schema_version"] = {"const": cls.SCHEMA_VERSION, "type": "integer"}
    required = set(schema.get("required", [])) | {"event_type", "schema_version"}
    schema["required"] = sorted(required)
    return schema


def json_schema(cls: type[Message]) -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of one message type."""
    schema = _pin_identity(cls.model_json_schema(mode="validation"), cls)
    return {
        "$schema": DRAFT,
        "$id": f"urn:slotline:{cls.TOPIC}:{cls.EVENT_TYPE}:v{cls.SCHEMA_VERSION}",
        "x-topic": cls.TOPIC,
        **schema,
    }


def message_key(cls: type[BaseModel]) -> str:
    if issubclass(cls, Message):
        return f"{cls.EVENT_TYPE}.v{cls.SCHEMA_VERSION}"
    return cls.__name__


def asyncapi_document() -> dict[str, Any]:
    """An AsyncAPI 3.0 document: every topic and DLQ, every message and its payload."""
    models: list[type[BaseModel]] = [*MESSAGES.values(), DeadLetter]
    refs, definitions = models_json_schema(
        [(m, "validation") for m in models], ref_template="#/components/schemas/{model}"
    )
    schemas: dict[str, Any] = definitions.get("$defs", {})
    for cls in MESSAGES.values():
        name = refs[(cls, "validation")]["$ref"].rsplit("/", 1)[1]
        _pin_identity(schemas[name], cls)
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    for topic in ALL_TOPICS:
        carried: tuple[tuple[str, list[type[BaseModel]]], ...] = (
            (topic, list(messages_on(topic))),
            (dead_letter_topic(topic), [DeadLetter]),
        )
        for address, types in carried:
            channel_id = address.replace(".", "_")
            channel_messages = {}
            for model in types:
                key = message_key(model)
                ref = refs[(model, "validation")]
                messages[key] = {
                    "name": key,
                    "title": model.__name__,
                    "summary": (model.__doc__ or "").strip().splitlines()[0]
                    if model.__doc__
                    else "",
                    "contentType": "application/json",
                    "payload": ref,
                }
                channel_messages[key] = {"$ref": f"#/components/messages/{key}"}
            channels[channel_id] = {
                "address": address,
                "messages": channel_messages,
                "description": "Key: the aggregate id; one aggregate's messages stay in order.",
            }
            operations[f"send_{channel_id}"] = {
                "action": "send",
                "channel": {"$ref": f"#/channels/{channel_id}"},
            }
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "Slotline public event streams",
            "version": "1.0.0",
            "description": (
                "Every message carries the envelope (event_id, event_type, schema_version, "
                "occurred_at, tenant_id, aggregate_id, sequence, correlation_id, causation_id); "
                "trace context travels in the W3C traceparent header."
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
    files["asyncapi.json"] = _dump(asyncapi_document())
    return files


def write_schemas(out_dir: Path) -> list[Path]:
    """Write every schema under ``out_dir`` and remove files no longer generated."""
    files = rendered_schemas()
    written = []
    for relative, content in files.items():
        path = out_dir / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content)
        written.append(path)
    for stale in out_dir.rglob("*.json"):
        if str(stale.relative_to(out_dir)) not in files:
            stale.unlink()
    return written
