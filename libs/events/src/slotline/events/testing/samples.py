"""Valid sample instances of any contract message, for tests and examples."""

from __future__ import annotations

import types
import typing
from datetime import UTC, date, datetime, timedelta
from enum import Enum
from typing import Any

from pydantic import AwareDatetime, BaseModel

from slotline.events.contract.common import Contact, Money, TimeSlot

_START = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)

_BY_NAME: dict[str, Any] = {
    "tenant_id": "acme",
    "aggregate_id": "agg-1",
    "reference": "SLT-7K4Q",
    "kind": "deposit",
    "language": "en",
    "email": "ana@example.com",
    "to_email": "ana@example.com",
    "recipient_email": "ana@example.com",
    "time_zone": "Europe/Athens",
    "start": "09:00",
    "end": "17:00",
    "weekday": 0,
    "contact": Contact(name="Ana", phone="+302101234567", email="ana@example.com"),
    "amount": Money(amount_minor=2500, currency="EUR"),
    "slot": TimeSlot(start=_START, end=_START + timedelta(hours=1)),
    "ranges": [("09:00", "13:00")],
}


def sample(cls: type[BaseModel]) -> BaseModel:
    """An instance of ``cls`` with every required field filled with a valid value."""
    values = {
        name: _value(name, field.annotation)
        for name, field in cls.model_fields.items()
        if field.is_required()
    }
    return cls(**values)


def _value(name: str, annotation: Any) -> Any:
    hint = _BY_NAME.get(name)
    if hint is not None and _fits(hint, annotation):
        return hint
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is typing.Annotated:
        return _value(name, args[0])
    if origin in (typing.Union, types.UnionType):
        return _value(name, next(a for a in args if a is not type(None)))
    if origin is list:
        return [_value(name, args[0])]
    if origin is dict:
        return {}
    if origin is tuple:
        return tuple(_value(name, a) for a in args)
    if isinstance(annotation, type):
        return _of_type(name, annotation)
    raise TypeError(f"no sample for {name}: {annotation!r}")


def _fits(hint: Any, annotation: Any) -> bool:
    """Whether a by-name hint has the field's type (names repeat across types)."""
    if typing.get_origin(annotation) is typing.Annotated:
        return _fits(hint, typing.get_args(annotation)[0])
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        return any(_fits(hint, a) for a in typing.get_args(annotation) if a is not type(None))
    if typing.get_origin(annotation) is list:
        return isinstance(hint, list)
    return isinstance(annotation, type) and isinstance(hint, annotation)


def _of_type(name: str, kind: type) -> Any:
    if kind is AwareDatetime or issubclass(kind, datetime):
        return _START
    if kind is TimeSlot:
        return _BY_NAME["slot"]
    if issubclass(kind, Enum):
        return next(iter(kind))
    if issubclass(kind, BaseModel):
        return sample(kind)
    if kind is bool:
        return True
    if kind is int:
        return 1
    if kind is datetime:
        return _START
    if kind is date:
        return _START.date()
    if kind is str:
        return "+302101234567" if "phone" in name else f"{name}-1"
    raise TypeError(f"no sample for {name}: {kind!r}")
