"""Refusing to run in production on published secrets.

Every secret a service has comes with a local default so ``make run`` needs no setup;
those defaults are in this repository, so anyone can sign with them. With
``SLOTLINE_ENVIRONMENT=prod`` (the prod overlay sets it) a service that would use one —
or the payment simulator, or Kafka without TLS and a SCRAM user — does not start, and
says which settings to set.
"""

from __future__ import annotations

from typing import Any

from pydantic import SecretStr
from pydantic_settings import BaseSettings

from slotline.events.auth import AuthSettings

PRODUCTION = frozenset({"prod", "production"})


class UnsafeForProduction(SystemExit):
    """Raised at start-up: the process exits with the reasons, before it serves anything."""


def published_defaults(settings: BaseSettings, prefix: str = "SLOTLINE_") -> list[str]:
    """The secret settings still at their published default value."""
    found = []
    for name, field in type(settings).model_fields.items():
        value, default = getattr(settings, name), field.default
        published = isinstance(value, SecretStr) and isinstance(default, SecretStr)
        if published and value.get_secret_value() == default.get_secret_value():
            found.append(f"{prefix}{name.upper()} is the published default: set your own")
    return found


def refuse_unsafe_production(settings: Any, *more: str) -> None:
    """In production, stop the process if any secret is published (or the development
    fallback would be used); ``more`` adds a service's own reasons."""
    if str(getattr(settings, "environment", "")).lower() not in PRODUCTION:
        return
    reasons = [*published_defaults(settings), *more]
    kafka = getattr(settings, "kafka_security", None)
    if kafka is not None:
        reasons.extend(kafka.production_refusals())
    if getattr(settings, "privacy_master_key", "unset") is None:
        reasons.append(
            "SLOTLINE_PRIVACY_MASTER_KEY is not set: personal data would be sealed with the "
            "published development key"
        )
    if AuthSettings().uses_dev_secret:
        reasons.append(
            "SLOTLINE_AUTH_SECRET is the published development secret: set your own "
            "(or SLOTLINE_AUTH_PUBLIC_KEY_PEM for RS256)"
        )
    if reasons:
        listed = "\n  - ".join(reasons)
        raise UnsafeForProduction(f"refusing to start in production:\n  - {listed}")
