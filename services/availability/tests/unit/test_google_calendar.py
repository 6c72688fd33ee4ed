"""The Google Calendar adapter on the documented request and response shapes (Calendar
API v3), against the local simulator: no network here."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest

from slotline.availability.calendar_sync.google import GoogleCalendarGateway
from slotline.availability.calendar_sync.google_simulator import (
    CLIENT_ID,
    CLIENT_SECRET,
    GoogleCalendarSimulator,
)
from slotline.availability.calendar_sync.oauth import GOOGLE_TOKEN_URL, OAuthClient, OAuthGrant
from slotline.availability.calendar_sync.port import (
    BookingEntry,
    CalendarAccess,
    CalendarUnavailable,
)
from slotline.availability.domain.calendar_sync import booking_uid
from slotline.availability.domain.values import Interval

pytestmark = pytest.mark.unit

TOKEN = "ya29.simulated-access-token"
NINE = datetime(2026, 12, 7, 9, tzinfo=UTC)
WINDOW = Interval(NINE - timedelta(days=1), NINE + timedelta(days=30))


@pytest.fixture
def google() -> GoogleCalendarSimulator:
    return GoogleCalendarSimulator(TOKEN, page_size=2)


def gateway(google: GoogleCalendarSimulator) -> GoogleCalendarGateway:
    # No name resolves here: the address guard is for real hosts (its own tests).
    return GoogleCalendarGateway(transport=google.transport, allow_private=True)


def own_event(google: GoogleCalendarSimulator, url: str, hour: int, **more: object) -> str:
    """The calendar's owner adds an event (events.insert); its id."""
    start = NINE + timedelta(hours=hour)
    body = {
        "summary": "Dentist",
        "start": {"dateTime": start.isoformat()},
        "end": {"dateTime": (start + timedelta(hours=1)).isoformat()},
        **more,
    }
    response = google.transport.handle_request(
        httpx.Request(
            "POST", f"{url}/events", json=body, headers={"Authorization": f"Bearer {TOKEN}"}
        )
    )
    assert response.status_code == 200
    return str(response.json()["id"])


class TestGooglePull:
    def test_a_full_listing_over_pages_then_changes_by_sync_token(
        self, google: GoogleCalendarSimulator
    ) -> None:
        url = google.calendar_url("ana@example.com")
        access = CalendarAccess(url, "", TOKEN)
        ids = [own_event(google, url, hour) for hour in (0, 2, 4)]  # two pages
        own_event(google, url, 6, transparency="transparent")  # free time: no block
        first = gateway(google).pull(access, None, {}, WINDOW, UTC)
        assert first.pulled.full
        assert {i for i, busy in first.pulled.busy.items() if busy} == set(ids)
        assert first.token is not None

        google.handle(
            httpx.Request(
                "DELETE", f"{url}/events/{ids[0]}", headers={"Authorization": f"Bearer {TOKEN}"}
            )
        )
        later = own_event(google, url, 8)
        changes = gateway(google).pull(access, first.token, first.uids_by_href, WINDOW, UTC)
        assert not changes.pulled.full
        assert changes.pulled.removed == {ids[0]}
        assert set(changes.pulled.busy) == {later}
        assert ids[0] not in changes.uids_by_href

    def test_an_expired_sync_token_lists_the_calendar_again(
        self, google: GoogleCalendarSimulator
    ) -> None:
        url = google.calendar_url("room@example.com")
        access = CalendarAccess(url, "", TOKEN)
        kept = own_event(google, url, 1)
        first = gateway(google).pull(access, None, {}, WINDOW, UTC)
        google.expire_tokens()  # the server answers 410 fullSyncRequired
        again = gateway(google).pull(access, first.token, first.uids_by_href, WINDOW, UTC)
        assert again.pulled.full
        assert set(again.pulled.busy) == {kept}

    def test_a_refused_token_is_unavailable_without_showing_the_token(
        self, google: GoogleCalendarSimulator
    ) -> None:
        url = google.calendar_url("ana@example.com")
        with pytest.raises(CalendarUnavailable) as refused:
            gateway(google).pull(CalendarAccess(url, "", "wrong-token"), None, {}, WINDOW, UTC)
        assert "401" in str(refused.value)
        assert "wrong-token" not in str(refused.value)


class TestGooglePush:
    def test_a_booking_imported_twice_is_one_event_updated_then_deleted(
        self, google: GoogleCalendarSimulator
    ) -> None:
        url = google.calendar_url("ana@example.com")
        access = CalendarAccess(url, "", TOKEN)
        uid = booking_uid("bk-1")
        slot = Interval(NINE, NINE + timedelta(hours=1))
        entry = BookingEntry(uid, "60-min massage (SLT-1)", slot, 3, NINE)
        gateway(google).write(access, entry)
        gateway(google).write(access, entry)  # a retry
        moved = Interval(NINE + timedelta(hours=2), NINE + timedelta(hours=3))
        gateway(google).write(access, BookingEntry(uid, entry.summary, moved, 4, NINE))
        events = google.live_events("ana@example.com")
        assert [(e["iCalUID"], e["sequence"], e["start"]["dateTime"]) for e in events] == [
            (uid, 4, moved.start.isoformat())
        ]
        # Our own booking is never read back as busy time.
        assert gateway(google).pull(access, None, {}, WINDOW, UTC).pulled.busy == {}

        gateway(google).remove(access, uid)
        gateway(google).remove(access, uid)  # already gone: fine
        assert google.live_events("ana@example.com") == []


class TestGoogleTokenRefresh:
    def test_an_expired_access_token_is_renewed_with_the_refresh_token_and_kept(self) -> None:
        google = GoogleCalendarSimulator(TOKEN, refresh_token="1//refresh-google")
        url = google.calendar_url("ana@example.com")
        event = own_event(google, url, 0)
        google.auth.expire_access_tokens()  # an hour later: the token is refused (401)
        kept: list[str] = []
        grant = OAuthGrant("1//refresh-google", TOKEN)
        access = CalendarAccess(url, "", grant.sealable(), kept.append)
        client = OAuthClient(GOOGLE_TOKEN_URL, CLIENT_ID, CLIENT_SECRET)
        renewing = GoogleCalendarGateway(
            transport=google.transport, allow_private=True, oauth=client
        )
        pulled = renewing.pull(access, None, {}, WINDOW, UTC)
        assert set(pulled.pulled.busy) == {event}
        assert google.auth.renewals == 1
        renewed = OAuthGrant.of(kept[-1])
        assert renewed.access_token in google.auth.access_tokens
        assert renewed.refresh_token == "1//refresh-google"  # Google keeps it
        assert renewed.expires_at is not None

    def test_without_refresh_an_expired_token_fails_naming_what_is_missing(self) -> None:
        google = GoogleCalendarSimulator(TOKEN, refresh_token="1//refresh-google")
        url = google.calendar_url("ana@example.com")
        google.auth.expire_access_tokens()
        grant = OAuthGrant("1//refresh-google", TOKEN).sealable()
        with pytest.raises(CalendarUnavailable) as unconfigured:
            gateway(google).pull(CalendarAccess(url, "", grant), None, {}, WINDOW, UTC)
        assert "SLOTLINE_CALENDAR_GOOGLE_CLIENT_ID" in str(unconfigured.value)
        with pytest.raises(CalendarUnavailable) as bare:  # a link made before refresh tokens
            gateway(google).pull(CalendarAccess(url, "", TOKEN), None, {}, WINDOW, UTC)
        assert "401" in str(bare.value)
        assert "no refresh token" in str(bare.value)


class TestGoogleAddressGuard:
    def test_a_calendar_on_a_private_address_is_refused_before_any_request(self) -> None:
        google = GoogleCalendarSimulator(TOKEN)
        sent: list[httpx.Request] = []

        def record(request: httpx.Request) -> httpx.Response:
            sent.append(request)
            return google.handle(request)

        recording = httpx.MockTransport(record)
        guarded = GoogleCalendarGateway(transport=recording)  # private addresses not allowed
        access = CalendarAccess("http://10.0.0.7/calendar/v3/calendars/x", "", TOKEN)
        with pytest.raises(CalendarUnavailable, match="refused"):
            guarded.pull(access, None, {}, WINDOW, UTC)
        with pytest.raises(CalendarUnavailable, match="refused"):
            guarded.remove(access, booking_uid("bk-1"))
        assert sent == []
