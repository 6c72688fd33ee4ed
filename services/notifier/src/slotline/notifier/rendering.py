"""Message templates: Jinja2, per tenant (override directory) and per language.

Each template is a set of parts: ``<name>.subject.txt`` and ``<name>.txt`` (+ optional
``<name>.html``) for e-mail, ``<name>.sms.txt`` (else ``<name>.txt``) for SMS and
WhatsApp. Every part a message may need is rendered before anything is sent, with
``StrictUndefined``: a missing variable is a :class:`TemplateProblem`, never a
half-sent message.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from jinja2 import (
    ChoiceLoader,
    Environment,
    FileSystemLoader,
    PackageLoader,
    StrictUndefined,
    TemplateError,
    TemplateNotFound,
    select_autoescape,
)

from slotline.notifier.domain.outgoing import EMAIL

_NAME = re.compile(r"^[a-z][a-z0-9_]{0,99}$")
DEFAULT_LANGUAGE = "en"


class TemplateProblem(Exception):
    """A template is missing or does not render with the variables given."""


@dataclass(frozen=True)
class Rendered:
    language: str
    subject: str | None = None
    text: str | None = None
    html: str | None = None
    short: str | None = None  # SMS / WhatsApp body


class Templates:
    """Finds and renders templates: tenant overrides first, then the built-in ones."""

    def __init__(self, override_dir: Path | None = None) -> None:
        self.override_dir = override_dir

    @lru_cache(maxsize=256)  # noqa: B019 — one environment per tenant, kept for the process
    def _environment(self, tenant_id: str) -> Environment:
        loaders: list[FileSystemLoader | PackageLoader] = []
        if self.override_dir is not None:
            loaders.append(FileSystemLoader(str(self.override_dir / tenant_id)))
        loaders.append(PackageLoader("slotline.notifier", "templates"))
        return Environment(
            loader=ChoiceLoader(loaders),
            undefined=StrictUndefined,
            autoescape=select_autoescape(enabled_extensions=("html",), default=False),
            keep_trailing_newline=False,
            trim_blocks=False,
        )

    def render(
        self,
        tenant_id: str,
        name: str,
        language: str,
        variables: Mapping[str, object],
        channels: Iterable[str],
    ) -> Rendered:
        """Every part the ``channels`` need, in the best language available."""
        if not _NAME.match(name):
            raise TemplateProblem(f"template name {name!r} is not a valid template name")
        channels = set(channels)
        environment = self._environment(tenant_id)
        chosen = self._language(environment, name, language, channels)
        context = {**variables, "language": chosen}
        parts: dict[str, str | None] = {}
        try:
            if EMAIL in channels:
                parts["subject"] = " ".join(
                    self._part(environment, chosen, name, "subject.txt", context).split()
                )
                parts["text"] = self._part(environment, chosen, name, "txt", context)
                parts["html"] = self._optional(environment, chosen, name, "html", context)
            if channels - {EMAIL}:
                short = self._optional(environment, chosen, name, "sms.txt", context)
                if short is None:
                    short = self._part(environment, chosen, name, "txt", context)
                parts["short"] = short.strip()
        except TemplateNotFound as missing:
            raise TemplateProblem(f"template {name!r} has no part {missing.name}") from None
        except TemplateError as error:
            raise TemplateProblem(f"template {name!r} ({chosen}): {error}") from None
        return Rendered(language=chosen, **parts)

    def _language(
        self, environment: Environment, name: str, language: str, channels: set[str]
    ) -> str:
        part = "subject.txt" if EMAIL in channels else "sms.txt"
        fallback = "txt"
        for candidate in dict.fromkeys((language, language.split("-")[0], DEFAULT_LANGUAGE)):
            for suffix in (part, fallback):
                try:
                    environment.get_template(f"{candidate}/{name}.{suffix}")
                    return candidate
                except TemplateNotFound:
                    continue
        raise TemplateProblem(f"no template {name!r} in {language!r} or {DEFAULT_LANGUAGE!r}")

    @staticmethod
    def _part(
        environment: Environment, language: str, name: str, suffix: str, context: dict[str, object]
    ) -> str:
        return environment.get_template(f"{language}/{name}.{suffix}").render(context)

    def _optional(
        self,
        environment: Environment,
        language: str,
        name: str,
        suffix: str,
        context: dict[str, object],
    ) -> str | None:
        try:
            template = environment.get_template(f"{language}/{name}.{suffix}")
        except TemplateNotFound:
            return None
        return template.render(context)
