"""Text PostgreSQL cannot store: NUL characters and lone UTF-16 surrogates.

Both arrive through JSON escapes (``\\u0000``, ``\\ud800``) or percent-encoded URLs, pass
pydantic's ``str`` validation, and fail only when a query binds them: a 500 over HTTP,
an endless retry in a consumer. The HTTP edge answers 422 and the contract's parser
dead-letters the record instead, naming where the text was.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any


def unstorable(text: str) -> str | None:
    """Why ``text`` cannot be stored, or None when it can."""
    if "\x00" in text:
        return "contains a NUL character"
    for char in text:
        if "\ud800" <= char <= "\udfff":
            return "contains a lone surrogate (invalid Unicode)"
    return None


def first_unstorable(value: Any, path: str = "") -> tuple[str, str] | None:
    """The first (path, reason) of unstorable text in a decoded JSON value, keys included."""
    for where, text in _strings(value, path):
        reason = unstorable(text)
        if reason is not None:
            return where or "body", reason
    return None


def _strings(value: Any, path: str) -> Iterator[tuple[str, str]]:
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, dict):
        for key, item in value.items():
            where = f"{path}.{key}" if path else str(key)
            yield where, str(key)
            yield from _strings(item, where)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _strings(item, f"{path}[{index}]")
