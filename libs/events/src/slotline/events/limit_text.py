"""A setting that is a rate limit, in ``limits`` syntax (``30/minute``, ``5/day``):
checked when the settings load, so a typo stops the service at start with the
setting's name, not at the first request that counts against it."""

from __future__ import annotations

from typing import Annotated

from limits import parse
from pydantic import AfterValidator


def _limit(text: str) -> str:
    parse(text)  # ValueError: pydantic names the setting
    return text


RateLimitText = Annotated[str, AfterValidator(_limit)]
