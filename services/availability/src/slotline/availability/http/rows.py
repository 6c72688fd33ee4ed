"""Read-model rows as JSON: timestamps in ISO 8601, ids as strings."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from uuid import UUID


def jsonable(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    return value


def renamed(row: dict[str, Any], **names: str) -> dict[str, Any]:
    """The row as JSON with columns renamed (``new=old``)."""
    data = jsonable(row)
    for new, old in names.items():
        data[new] = data.pop(old)
    return dict(data)
