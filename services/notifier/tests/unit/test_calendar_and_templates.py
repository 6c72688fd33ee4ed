"""Calendar files (RFC 5545 via icalendar) and templates (Jinja2, StrictUndefined)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import jwt
import pytest
from icalendar import Calendar, Component

from slotline.events.twilio_signature import signature_is_valid, twilio_signature
from slotline.notifier.calendar_files import (
    FeedTokens,
    InvalidFeedToken,
    booking_ics,
    resource_feed,
)
from slotline.notifier.domain.booking_card import BookingCard
from slotline.notifier.rendering import TemplateProblem, Templates

pytestmark = pytest.mark.unit

START = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)


def card() -> BookingCard:
    return BookingCard(
        tenant_id="acme",
        booking_id="b-1",
        reference="SLT-7K4Q",
        customer_name="Ana",
        phone="+306912345678",
        email="ana@example.com",
        language="en",
        transactional_consent=True,
        marketing_consent=False,
        service_name="Massage 60",
        location_name="Kolonaki",
        address="Skoufa 10, Athens",
        time_zone="Europe/Athens",
        starts_at=START,
        ends_at=START + timedelta(hours=1),
        resource_ids=("staff-1", "room-1"),
        manage_url="https://book.example/b-1",
    )


def event_of(ics: str | bytes) -> tuple[Calendar, Component]:
    calendar = Calendar.from_ical(ics)
    return calendar, calendar.walk("VEVENT")[0]


def sequence_of(event: Component) -> int:
    """An event's SEQUENCE (icalendar reads it as a ``vInt``, an ``int``)."""
    sequence = event["SEQUENCE"]
    assert isinstance(sequence, int)
    return int(sequence)


class TestBookingCalendarFile:
    def test_it_carries_the_local_time_with_its_zone(self) -> None:
        calendar, event = event_of(booking_ics(card(), START))
        start = event.decoded("dtstart")
        assert start == datetime(2026, 12, 1, 12, 0, tzinfo=ZoneInfo("Europe/Athens"))
        assert str(start.tzinfo) == "Europe/Athens"
        assert [str(z["TZID"]) for z in calendar.walk("VTIMEZONE")] == ["Europe/Athens"]
        assert str(calendar["METHOD"]) == "REQUEST"

    def test_a_move_keeps_the_uid_and_bumps_the_sequence(self) -> None:
        before = card()
        after = before.moved(START + timedelta(days=1), START + timedelta(days=1, hours=1), ("s",))
        _, first = event_of(booking_ics(before, START))
        _, second = event_of(booking_ics(after, START))
        assert str(first["UID"]) == str(second["UID"])
        assert (sequence_of(first), sequence_of(second)) == (0, 1)

    def test_a_cancellation_is_method_cancel(self) -> None:
        calendar, event = event_of(booking_ics(card().cancelled(), START))
        assert str(calendar["METHOD"]) == "CANCEL"
        assert str(event["STATUS"]) == "CANCELLED"
        assert sequence_of(event) == 1

    def test_a_resource_feed_lists_the_bookings_it_is_given(self) -> None:
        calendar = Calendar.from_ical(resource_feed("Room 2", [card(), card().cancelled()], START))
        statuses = [str(e["STATUS"]) for e in calendar.walk("VEVENT")]
        assert statuses == ["CONFIRMED", "CANCELLED"]
        assert str(calendar["X-WR-CALNAME"]) == "Room 2"


SECRET = "feed-secret-of-at-least-thirty-two-bytes"


class TestFeedTokens:
    """A feed token opens one resource's feed of one tenant, at one version, until its
    expiry; anything else is the same refusal."""

    tokens = FeedTokens(SECRET, timedelta(days=365))

    def test_a_token_grants_its_feed_at_its_version_until_it_expires(self) -> None:
        token = self.tokens.token("acme", "room-2", 3, START)
        grant = self.tokens.read(token, "acme", "room-2", START + timedelta(days=364))
        assert (grant.tenant_id, grant.resource_id, grant.version) == ("acme", "room-2", 3)
        assert grant.expires_at == START + timedelta(days=365)

    @pytest.mark.parametrize(
        ("tenant", "resource", "days_later"),
        [
            ("acme", "room-2", 365),  # expired: at its expiry
            ("acme", "room-2", 400),  # expired
            ("acme", "room-3", 1),  # another resource
            ("other", "room-2", 1),  # another tenant
        ],
    )
    def test_a_token_opens_no_other_feed_and_nothing_after_its_expiry(
        self, tenant: str, resource: str, days_later: int
    ) -> None:
        token = self.tokens.token("acme", "room-2", 0, START)
        with pytest.raises(InvalidFeedToken, match=r"^no such feed$"):
            self.tokens.read(token, tenant, resource, START + timedelta(days=days_later))

    @pytest.mark.parametrize(
        "claims",
        [
            {"aud": "slotline-feed", "tnt": "acme", "sub": "room-2", "ver": 0},  # no expiry
            {"aud": "slotline-feed", "tnt": "acme", "sub": "room-2", "exp": 2**40},  # no version
            {"aud": "slotline-manage", "tnt": "acme", "sub": "room-2", "ver": 0, "exp": 2**40},
            {"aud": "slotline-feed", "tnt": "acme", "sub": "room-2", "ver": "0", "exp": 2**40},
        ],
    )
    def test_a_token_without_expiry_version_or_this_audience_is_refused(
        self, claims: dict[str, object]
    ) -> None:
        token = jwt.encode(claims, SECRET, algorithm="HS256")
        with pytest.raises(InvalidFeedToken):
            self.tokens.read(token, "acme", "room-2", START)

    @pytest.mark.parametrize(
        "token",
        [
            FeedTokens("another-secret-of-thirty-two-bytes!!").token("acme", "room-2", 0, START),
            "0123456789abcdef0123456789abcdef",  # the former HMAC tokens: no expiry, refused
            "ελληνικά",
            "",
        ],
    )
    def test_a_forged_or_malformed_token_is_refused_not_a_crash(self, token: str) -> None:
        with pytest.raises(InvalidFeedToken):
            self.tokens.read(token, "acme", "room-2", START)


class TestTemplates:
    def test_english_and_greek_confirmations_render(self) -> None:
        templates = Templates()
        variables = card().template_variables()
        english = templates.render("acme", "booking_confirmed", "en", variables, ["email", "sms"])
        greek = templates.render("acme", "booking_confirmed", "el-GR", variables, ["email"])
        assert english.subject == "Booking confirmed: Massage 60 on 2026-12-01 at 12:00"
        assert english.html
        assert "Kolonaki" in english.html
        assert english.short
        assert english.short.startswith("Booked: Massage 60")
        assert greek.language == "el"
        assert greek.subject
        assert greek.subject.startswith("Επιβεβαίωση κράτησης")

    def test_an_unknown_variable_is_a_clear_problem(self) -> None:
        variables = card().template_variables()
        del variables["service_name"]
        with pytest.raises(TemplateProblem, match="service_name"):
            Templates().render("acme", "booking_confirmed", "en", variables, ["email"])

    def test_an_unknown_template_is_a_clear_problem(self) -> None:
        with pytest.raises(TemplateProblem, match="no_such"):
            Templates().render("acme", "no_such", "en", {}, ["sms"])

    def test_a_tenant_override_wins(self, tmp_path: Path) -> None:
        root = tmp_path
        (root / "acme" / "en").mkdir(parents=True)
        (root / "acme" / "en" / "text_back.sms.txt").write_text("Hi from {{ business_name }}!")
        rendered = Templates(root).render(
            "acme", "text_back", "en", {"business_name": "Acme"}, ["sms"]
        )
        assert rendered.short == "Hi from Acme!"


class TestWebhookSignatures:
    def test_the_signature_covers_url_and_parameters(self) -> None:
        params = [("From", "+306912345678"), ("Body", "STOP")]
        signature = twilio_signature("token", "https://n.example/hook", params)
        assert signature_is_valid("token", "https://n.example/hook", params, signature)
        assert not signature_is_valid(
            "token", "https://n.example/hook", [("Body", "START")], signature
        )
        assert not signature_is_valid("other", "https://n.example/hook", params, signature)
        assert not signature_is_valid("token", "https://n.example/hook", params, None)
