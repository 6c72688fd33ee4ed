"""Jinja2 pages: autoescaped, translated (the i18n extension on this request's
language), formatted by Babel, with the stylesheet inlined (one request fewer on a
phone) and scripts served by this service under content-hashed URLs."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, PackageLoader, StrictUndefined, pass_context, select_autoescape
from jinja2.runtime import Context

from slotline.web import i18n

STATIC_DIR = Path(__file__).parent / "static"


def _versions() -> dict[str, str]:
    return {
        path.name: hashlib.sha256(path.read_bytes()).hexdigest()[:10]
        for path in STATIC_DIR.iterdir()
        if path.is_file()
    }


_VERSIONS = _versions()
_CSS = {name: (STATIC_DIR / name).read_text(encoding="utf-8") for name in ("app.css",)}


def static_url(name: str) -> str:
    return f"/static/{name}?v={_VERSIONS.get(name, '0')}"


def lang_url(request: Request, language: str) -> str:
    """This page in another language (the choice is then kept in a cookie)."""
    return str(request.url.include_query_params(lang=language).replace(scheme="", netloc=""))


def embedded(request: Request) -> bool:
    """Whether the page is shown inside a business's own site (``?embed=1``)."""
    return request.query_params.get("embed") == "1"


def keep_embed(url: str, embed: bool) -> str:
    """``url`` with ``embed=1`` added when the page is embedded: the one way every link,
    form action and redirect of the booking pages stays inside the iframe."""
    if not embed:
        return url
    return f"{url}{'&' if '?' in url else '?'}embed=1"


@pass_context
def _link(context: Context, url: str) -> str:
    return keep_embed(url, bool(context.get("embedded")))


def _environment() -> Environment:
    env = Environment(
        loader=PackageLoader("slotline.web", "templates"),
        autoescape=select_autoescape(["html", "xml", "svg"]),
        extensions=["jinja2.ext.i18n"],
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_callables(i18n._, i18n.ngettext, newstyle=True)  # type: ignore[attr-defined]
    env.filters.update(day=i18n.day, short_day=i18n.short_day, time=i18n.time_of, money=i18n.money)
    env.globals.update(
        static=static_url,
        css=_CSS["app.css"],
        languages=i18n.NAMES,
        lang_url=lang_url,
        link=_link,
    )
    return env


templates = _environment()


def render(request: Request, name: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    """The page ``name`` in the request's language; ``context`` fills it."""
    base: dict[str, Any] = {
        "request": request,
        "lang": i18n.current(),
        "path": request.url.path,
        "query": request.url.query,
        "embedded": embedded(request),
        "brand": None,
        "csrf": "",
        "staff": None,
        "description": "",
    }
    base.update(getattr(request.state, "page", {}))
    base.update(context)
    html = templates.get_template(name).render(base)
    return HTMLResponse(html, status_code=status_code)
