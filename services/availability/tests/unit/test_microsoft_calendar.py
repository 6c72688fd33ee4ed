"""The Microsoft 365 adapter on the documented request and response shapes (Microsoft
Graph v1.0 and the identity platform's token endpoint), against the local simulator:
no network here."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest

from slotline.availability.calendar_sync.microsoft import MicrosoftCalendarGateway
from slotline.availability.calendar_sync.microsoft_simulator import (
    CLIENT_ID,
    CLIENT_SECRET,
    MicrosoftGraphSimulator,
)
from slotline.availability.calendar_sync.oauth import MICROSOFT_SCOPE, OAuthClient, OAuthGrant
from slotline.availability.calendar_sync.port import (
    BookingEntry,
    CalendarAccess,
    CalendarUnavailable,
)
from slotline.availability.domain.calendar_sync import booking_uid
from slotline.availability.domain.values import Interval

pytestmark = pytest.mark.unit

TOKEN, REFRESH = "eyJ0eXAi.simulated-access-token", "0.AXkA-simulated-refresh-token"
NINE = datetime(2026, 12, 7, 9, tzinfo=UTC)
WINDOW = Interval(NINE - timedelta(days=1), NINE + timedelta(days=30))
ATHENS = ZoneInfo("Europe/Athens")


class Recorder:
    """The simulator behind a transport that notes each request and its answer."""

    def __init__(self, graph: MicrosoftGraphSimulator, lose_first_post: bool = False) -> None:
        self.graph = graph
        self.sent: list[tuple[httpx.Request, int]] = []
        self.lose_first_post = lose_first_post
        self.transport = httpx.MockTransport(self.handle)

    def handle(self, request: httpx.Request) -> httpx.Response:
        response = self.graph.handle(request)
        self.sent.append((request, response.status_code))
        if self.lose_first_post and request.method == "POST" and "/events" in request.url.path:
            self.lose_first_post = False  # made, but the answer never arrives
            raise httpx.ReadTimeout("the answer was lost", request=request)
        return response

    def statuses(self) -> list[int]:
        return [status for _, status in self.sent]


@pytest.fixture
def graph() -> MicrosoftGraphSimulator:
    return MicrosoftGraphSimulator(TOKEN, page_size=2, refresh_token=REFRESH)


def gateway(
    transport: httpx.BaseTransport, oauth: bool = True, allow_private: bool = True
) -> MicrosoftCalendarGateway:
    # No name resolves here: the address guard is for real hosts (TestAddressGuard).
    client = OAuthClient(
        MicrosoftGraphSimulator(TOKEN).token_url(), CLIENT_ID, CLIENT_SECRET, MICROSOFT_SCOPE
    )
    return MicrosoftCalendarGateway(
        transport=transport, allow_private=allow_private, oauth=client if oauth else None
    )


def access(url: str, keep: list[str] | None = None, **grant: object) -> CalendarAccess:
    fields = {"refresh_token": REFRESH, "access_token": TOKEN, **grant}
    tokens = OAuthGrant(**fields)  # type: ignore[arg-type]  # fields of several types, by name
    return CalendarAccess(url, "", tokens.sealable(), keep.append if keep is not None else None)


def at(hour: int) -> datetime:
    return NINE + timedelta(hours=hour)


class TestMicrosoftPull:
    def test_a_delta_round_over_pages_then_changes_by_the_delta_link(
        self, graph: MicrosoftGraphSimulator
    ) -> None:
        url = graph.calendar_url("ana")
        ids = [graph.add_event("ana", at(h), at(h + 1)) for h in (0, 2, 4)]  # two pages
        free = graph.add_event("ana", at(6), at(7), showAs="free")
        first = gateway(graph.transport).pull(access(url), None, {}, WINDOW, UTC)
        assert first.pulled.full
        assert first.pulled.busy[ids[0]] == (Interval(at(0), at(1)),)
        assert {i for i, busy in first.pulled.busy.items() if busy} == set(ids)
        assert first.pulled.busy[free] == ()  # free time: no block
        assert first.token is not None
        assert "$deltatoken=" in first.token

        graph.delete_event("ana", ids[0])
        graph.change_event("ana", ids[1], start={"dateTime": "2027-06-01T09:00:00.0000000"})
        later = graph.add_event("ana", at(8), at(9))
        changes = gateway(graph.transport).pull(
            access(url), first.token, first.uids_by_href, WINDOW, UTC
        )
        assert not changes.pulled.full
        # deleted, and moved out of the window: both reported @removed
        assert changes.pulled.removed == {ids[0], ids[1]}
        assert changes.pulled.busy == {later: (Interval(at(8), at(9)),)}
        assert ids[0] not in changes.uids_by_href
        assert ids[2] in changes.uids_by_href

    def test_an_all_day_event_blocks_its_day_in_the_locations_zone(
        self, graph: MicrosoftGraphSimulator
    ) -> None:
        url = graph.calendar_url("room")
        day = datetime(2026, 12, 8, tzinfo=UTC)
        event = graph.add_event("room", day, day + timedelta(days=1), isAllDay=True)
        pulled = gateway(graph.transport).pull(access(url), None, {}, WINDOW, ATHENS)
        athens_day = datetime.combine(date(2026, 12, 8), datetime.min.time(), ATHENS)
        assert pulled.pulled.busy[event] == (Interval(athens_day, athens_day + timedelta(days=1)),)

    def test_an_expired_delta_token_lists_the_view_again(
        self, graph: MicrosoftGraphSimulator
    ) -> None:
        url = graph.calendar_url("room")
        kept = graph.add_event("room", at(1), at(2))
        first = gateway(graph.transport).pull(access(url), None, {}, WINDOW, UTC)
        graph.expire_sync_state()  # the next delta link is answered 410 syncStateNotFound
        recorder = Recorder(graph)
        again = gateway(recorder.transport).pull(
            access(url), first.token, first.uids_by_href, WINDOW, UTC
        )
        assert 410 in recorder.statuses()
        assert again.pulled.full
        assert set(again.pulled.busy) == {kept}
        assert again.token is not None
        assert again.token != first.token


class TestMicrosoftPush:
    def test_a_booking_written_twice_is_one_event_updated_then_deleted(
        self, graph: MicrosoftGraphSimulator
    ) -> None:
        url = graph.calendar_url("ana")
        uid = booking_uid("bk-1")
        entry = BookingEntry(uid, "60-min massage (SLT-1)", Interval(at(0), at(1)), 3, NINE)
        gateway(graph.transport).write(access(url), entry)
        gateway(graph.transport).write(access(url), entry)  # a retry
        moved = Interval(at(2), at(3))
        gateway(graph.transport).write(
            access(url), BookingEntry(uid, entry.summary, moved, 4, NINE)
        )
        events = graph.live_events("ana")
        assert [(graph.uid_of("ana", e["id"]), e["start"]["dateTime"]) for e in events] == [
            (uid, "2026-12-07T11:00:00.0000000")
        ]
        assert events[0]["subject"] == "60-min massage (SLT-1)"
        # Our own booking is never read back as busy time.
        assert gateway(graph.transport).pull(access(url), None, {}, WINDOW, UTC).pulled.busy == {}

        gateway(graph.transport).remove(access(url), uid)
        gateway(graph.transport).remove(access(url), uid)  # already gone: fine
        assert graph.live_events("ana") == []

    def test_a_create_whose_answer_was_lost_is_not_made_twice(
        self, graph: MicrosoftGraphSimulator
    ) -> None:
        url = graph.calendar_url("ana")
        recorder = Recorder(graph, lose_first_post=True)
        entry = BookingEntry(booking_uid("bk-2"), "Massage", Interval(at(0), at(1)), 3, NINE)
        with pytest.raises(CalendarUnavailable, match="ReadTimeout"):
            gateway(recorder.transport).write(access(url), entry)
        gateway(recorder.transport).write(access(url), entry)  # the push job's retry
        assert len(graph.live_events("ana")) == 1

    def test_an_event_deleted_in_outlook_is_written_again(
        self, graph: MicrosoftGraphSimulator
    ) -> None:
        url = graph.calendar_url("ana")
        entry = BookingEntry(booking_uid("bk-3"), "Massage", Interval(at(0), at(1)), 3, NINE)
        gateway(graph.transport).write(access(url), entry)
        graph.delete_event("ana", graph.live_events("ana")[0]["id"])
        gateway(graph.transport).write(
            access(url), BookingEntry(**{**entry.__dict__, "sequence": 4})
        )
        assert [graph.uid_of("ana", e["id"]) for e in graph.live_events("ana")] == [entry.uid]


class TestMicrosoftTokenRefresh:
    def test_an_expired_access_token_is_renewed_and_the_new_grant_kept(
        self, graph: MicrosoftGraphSimulator
    ) -> None:
        url = graph.calendar_url("ana")
        event = graph.add_event("ana", at(0), at(1))
        graph.auth.expire_access_tokens()  # an hour later: refused with 401
        kept: list[str] = []
        recorder = Recorder(graph)
        pulled = gateway(recorder.transport).pull(access(url, kept), None, {}, WINDOW, UTC)
        assert set(pulled.pulled.busy) == {event}
        assert recorder.statuses()[:3] == [401, 200, 200]  # refused, renewed, read
        renewed = OAuthGrant.of(kept[-1])
        assert renewed.access_token in graph.auth.access_tokens
        assert renewed.refresh_token not in (None, REFRESH)  # Microsoft rotates it: kept
        # The next call signs in with the kept grant: no second renewal.
        kept_access = CalendarAccess(url, "", kept[-1])
        entry = BookingEntry(booking_uid("bk-4"), "Massage", Interval(at(3), at(4)), 3, NINE)
        gateway(graph.transport).write(kept_access, entry)
        assert graph.auth.renewals == 1

    def test_a_token_known_to_have_expired_is_renewed_before_the_request(
        self, graph: MicrosoftGraphSimulator
    ) -> None:
        url = graph.calendar_url("ana")
        recorder = Recorder(graph)
        expired = access(url, [], expires_at=datetime.now(UTC) - timedelta(minutes=1))
        gateway(recorder.transport).pull(expired, None, {}, WINDOW, UTC)
        assert 401 not in recorder.statuses()
        assert graph.auth.renewals == 1
        no_access_yet = access(url, [], access_token=None)  # linked with a refresh token only
        gateway(recorder.transport).pull(no_access_yet, None, {}, WINDOW, UTC)
        assert graph.auth.renewals == 2

    def test_a_revoked_consent_fails_with_the_reason_and_no_token(
        self, graph: MicrosoftGraphSimulator
    ) -> None:
        url = graph.calendar_url("ana")
        graph.auth.expire_access_tokens()
        graph.auth.revoke_refresh_tokens()
        with pytest.raises(CalendarUnavailable) as refused:
            gateway(graph.transport).pull(access(url), None, {}, WINDOW, UTC)
        message = str(refused.value)
        assert "invalid_grant" in message
        for secret in (TOKEN, REFRESH, CLIENT_SECRET):
            assert secret not in message

    def test_without_an_oauth_client_the_error_names_the_settings(
        self, graph: MicrosoftGraphSimulator
    ) -> None:
        url = graph.calendar_url("ana")
        graph.auth.expire_access_tokens()
        with pytest.raises(CalendarUnavailable, match="SLOTLINE_CALENDAR_MICROSOFT_CLIENT_ID"):
            gateway(graph.transport, oauth=False).pull(access(url), None, {}, WINDOW, UTC)


class TestAddressGuard:
    def test_a_calendar_on_a_private_address_is_refused_before_any_request(
        self, graph: MicrosoftGraphSimulator
    ) -> None:
        recorder = Recorder(graph)
        guarded = gateway(recorder.transport, allow_private=False)
        private = access("http://169.254.169.254/v1.0/me/calendars/x")
        entry = BookingEntry(booking_uid("bk-5"), "Massage", Interval(at(0), at(1)), 3, NINE)
        for call in (
            lambda: guarded.pull(private, None, {}, WINDOW, UTC),
            lambda: guarded.write(private, entry),
            lambda: guarded.remove(private, entry.uid),
        ):
            with pytest.raises(CalendarUnavailable, match="refused"):
                call()
        assert recorder.sent == []

    def test_a_delta_link_to_another_host_is_not_followed(
        self, graph: MicrosoftGraphSimulator
    ) -> None:
        url = graph.calendar_url("ana")
        recorder = Recorder(graph)
        elsewhere = "http://10.0.0.7/v1.0/me/calendars/ana/calendarView/delta?$deltatoken=x"
        with pytest.raises(CalendarUnavailable, match="another host"):
            gateway(recorder.transport).pull(access(url), elsewhere, {}, WINDOW, UTC)
        assert recorder.sent == []
