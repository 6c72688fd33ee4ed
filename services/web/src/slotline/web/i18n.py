"""English and Greek: the language of a request, its translations and its formats.

The language comes from ``?lang=`` (kept in a cookie), else the cookie, else the
browser's Accept-Language, else English. Messages are gettext catalogues read from
the ``.po`` files at start (Babel compiles them in memory: no build step); dates,
times and money are formatted by Babel for the language.
"""

from __future__ import annotations

import gettext
import io
from contextvars import ContextVar
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

from babel.dates import format_date, format_time
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_currency

LANGUAGES = ("en", "el")
NAMES = {"en": "English", "el": "Ελληνικά"}
LOCALE_DIR = Path(__file__).parent / "locale"

_current: ContextVar[str] = ContextVar("language", default="en")


def _catalogue(language: str) -> gettext.NullTranslations:
    po = LOCALE_DIR / language / "LC_MESSAGES" / "messages.po"
    if not po.is_file():
        return gettext.NullTranslations()
    with po.open("rb") as source:
        catalogue = read_po(source, locale=language)
    compiled = io.BytesIO()
    write_mo(compiled, catalogue)
    compiled.seek(0)
    return gettext.GNUTranslations(compiled)


_TRANSLATIONS = {language: _catalogue(language) for language in LANGUAGES}


def use(language: str) -> None:
    """Make ``language`` the one this request (task) renders in."""
    _current.set(language if language in LANGUAGES else "en")


def current() -> str:
    return _current.get()


def _(message: str) -> str:
    return _TRANSLATIONS[_current.get()].gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return _TRANSLATIONS[_current.get()].ngettext(singular, plural, n)


def choose(asked: str | None, kept: str | None, accept_language: str | None) -> str:
    """The request's language: asked in the URL, else kept in the cookie, else the
    browser's first supported preference, else English."""
    for candidate in (asked, kept):
        if candidate in LANGUAGES:
            return candidate
    preferences = []
    for part in (accept_language or "").split(","):
        name, _, params = part.strip().partition(";")
        weight = 1.0
        if params.strip().startswith("q="):
            try:
                weight = float(params.strip()[2:])
            except ValueError:
                weight = 0.0
        preferences.append((weight, name.split("-")[0].lower()))
    for _weight, name in sorted(preferences, key=lambda p: -p[0]):
        if name in LANGUAGES:
            return name
    return "en"


def day(value: date, style: str = "EEEE d MMMM") -> str:
    return format_date(value, style, locale=current())


def short_day(value: date) -> str:
    return format_date(value, "EEE d", locale=current())


def time_of(value: datetime) -> str:
    return format_time(value, "HH:mm", locale=current())


def money(amount: dict[str, object] | None) -> str:
    if not amount:
        return ""
    minor = int(str(amount["amount_minor"]))
    return str(format_currency(Decimal(minor) / 100, str(amount["currency"]), locale=current()))
