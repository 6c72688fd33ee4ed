"""Small rules the pages rely on: the SLA colour band, brand colours kept readable,
the details a customer must give, the language a page speaks, a tampered session."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from slotline.web.domain.colours import contrast, readable_on_white, text_on
from slotline.web.domain.details import Details
from slotline.web.domain.urgency import countdown, urgency
from slotline.web.i18n import choose
from slotline.web.session import Sessions
from slotline.web.settings import WebSettings

pytestmark = pytest.mark.unit

NOW = datetime(2026, 12, 7, 9, tzinfo=UTC)


class TestCallbackUrgency:
    def test_more_than_five_minutes_left_is_ok(self) -> None:
        assert urgency(NOW + timedelta(minutes=6), NOW) == "ok"

    def test_the_last_five_minutes_are_soon(self) -> None:
        assert urgency(NOW + timedelta(minutes=5), NOW) == "soon"

    def test_past_the_deadline_is_late_and_counts_below_zero(self) -> None:
        assert urgency(NOW - timedelta(seconds=1), NOW) == "late"
        assert countdown(NOW - timedelta(minutes=3, seconds=10), NOW) == "-3:10"


def test_any_brand_colour_becomes_readable_on_white_with_readable_text_on_it() -> None:
    for picked in ("#ffee00", "#7fffd4", "#0f766e", "#000000"):
        colour = readable_on_white(picked)
        assert contrast(colour, "#ffffff") >= 4.5
        assert contrast(colour, text_on(colour)) >= 4.5


class TestDetails:
    def test_a_name_and_a_phone_or_email_are_needed(self) -> None:
        details = Details.of({"name": " ", "phone": "", "email": ""})
        assert not details.check()
        assert details.errors == {"name": "name_missing", "phone": "contact_missing"}

    def test_a_malformed_email_is_named(self) -> None:
        details = Details.of({"name": "Maria", "email": "maria.example.com"})
        assert not details.check()
        assert details.errors == {"email": "email_invalid"}

    def test_a_phone_alone_is_enough(self) -> None:
        assert Details.of({"name": "Maria", "phone": "+30 694 123 4567"}).check()


class TestLanguage:
    def test_the_url_wins_then_the_cookie_then_the_browser(self) -> None:
        assert choose("el", "en", "en-GB") == "el"
        assert choose(None, "el", "en-GB") == "el"
        assert choose(None, None, "fr-FR,el;q=0.8,en;q=0.5") == "el"

    def test_an_unsupported_browser_language_falls_back_to_english(self) -> None:
        assert choose("de", None, "fr,de;q=0.9") == "en"


def test_a_tampered_session_cookie_is_not_a_session() -> None:
    sessions = Sessions("s" * 40, 3600)
    cookie = sessions.cookie_for("token-value")
    assert sessions.read(cookie) is not None
    assert sessions.read(cookie[:-2] + "xx") is None
    assert Sessions("other-secret" * 4, 3600).read(cookie) is None


def test_production_refuses_the_published_session_secret_and_plain_http_cookies() -> None:
    with pytest.raises(RuntimeError, match="SESSION_SECRET"):
        WebSettings(environment="production").check_production()
    with pytest.raises(RuntimeError, match="SESSION_SECRET"):
        WebSettings(environment="prod").check_production()  # as the prod overlay says it
    with pytest.raises(RuntimeError, match="SECURE_COOKIES"):
        WebSettings(environment="production", web_session_secret="x" * 40).check_production()
    WebSettings(
        environment="production", web_session_secret="x" * 40, web_secure_cookies=True
    ).check_production()
