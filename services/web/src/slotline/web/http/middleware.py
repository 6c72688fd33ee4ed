"""Per request: the page's language (and the cookie keeping a chosen one), and the
headers every page carries — a strict Content-Security-Policy (scripts and styles
only from here, no inline script; with a Stripe key also Stripe.js from
js.stripe.com), no sniffing, no referrer leaving the site (manage links carry their
key in the URL)."""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from slotline.web import i18n

LANGUAGE_COOKIE = "slotline_lang"
_CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
    "script-src 'self'{scripts}; connect-src 'self'{connect}; frame-src {frame_src}; "
    "base-uri 'self'; form-action 'self'; object-src 'none'; frame-ancestors {frames}"
)
STRIPE_SOURCES = {
    "scripts": " https://js.stripe.com",
    "connect": " https://api.stripe.com",
    "frame_src": "'self' https://js.stripe.com https://hooks.stripe.com",
}
"""With a Stripe publishable key: Stripe.js and its card frames, the one outside asset
(Stripe's PCI rule: Stripe.js is always loaded from js.stripe.com)."""
_OWN_ONLY = {"scripts": "", "connect": "", "frame_src": "'self'"}


class PageMiddleware:
    def __init__(self, app: ASGIApp, stripe: bool = False) -> None:
        self.app = app
        self.sources = STRIPE_SOURCES if stripe else _OWN_ONLY

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        asked = request.query_params.get("lang")
        language = i18n.choose(
            asked, request.cookies.get(LANGUAGE_COOKIE), request.headers.get("accept-language")
        )
        i18n.use(language)
        console = scope["path"].startswith("/console")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.setdefault(
                    "Content-Security-Policy",
                    _CSP.format(frames="'none'" if console else "*", **self.sources),
                )
                headers.setdefault("X-Content-Type-Options", "nosniff")
                headers.setdefault("Referrer-Policy", "same-origin")
                headers.append("Vary", "Accept-Language, Cookie")
                if asked in i18n.LANGUAGES:
                    headers.append(
                        "Set-Cookie",
                        f"{LANGUAGE_COOKIE}={language}; Path=/; Max-Age=31536000; SameSite=Lax",
                    )
            await send(message)

        await self.app(scope, receive, send_with_headers)
