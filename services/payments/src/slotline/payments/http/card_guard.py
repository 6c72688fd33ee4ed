"""Card numbers never reach Slotline: a request carrying anything card-shaped is refused.

Card-shaped means 13 to 19 digits (spaces or dashes allowed between them) that pass the
Luhn check — what PAN scanners look for. The request is answered 422 naming the field
and asking for a gateway token; its body is never logged or echoed.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError

from slotline.events.contract.common import contains_card_number

MESSAGE = (
    "looks like a card number: Slotline never accepts card numbers; "
    "send a payment token from the gateway (e.g. pm_… or tok_…) instead"
)


has_card_number = contains_card_number


def _leaves(value: Any, path: str = "") -> Iterator[tuple[str, str]]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _leaves(item, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _leaves(item, f"{path}[{index}]")
    elif isinstance(value, str | int) and not isinstance(value, bool):
        yield path or "body", str(value)


def card_shaped_fields(body: bytes, query: dict[str, str]) -> list[str]:
    """The fields (query parameters, JSON paths, or ``body``) holding a card number."""
    found = [f"query.{name}" for name, value in query.items() if has_card_number(value)]
    if not body:
        return found
    text = body.decode(errors="replace")
    try:
        fields = [path for path, value in _leaves(json.loads(text)) if has_card_number(value)]
    except ValueError:
        fields = ["body"] if has_card_number(text) else []
    return found + (fields or (["body"] if has_card_number(text) else []))


async def refuse_card_numbers(request: Request) -> None:
    """Router dependency: 422 before any route sees a card-shaped value."""
    fields = card_shaped_fields(await request.body(), dict(request.query_params))
    if fields:
        raise RequestValidationError(
            [{"loc": ("body", field), "type": "card_number", "msg": MESSAGE} for field in fields]
        )
