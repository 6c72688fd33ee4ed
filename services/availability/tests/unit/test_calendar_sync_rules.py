"""The calendar sync's rules: which blocks a pull leaves, which events are ours, when a
failed sync is tried again, and how calendar passwords are sealed."""

from __future__ import annotations

import base64
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from slotline.availability.calendar_sync.addresses import CalendarAddressRefused, check_address
from slotline.availability.calendar_sync.credentials import (
    CredentialBox,
    CredentialsKeyInvalid,
    SealedPasswordUnreadable,
)
from slotline.availability.domain import codec
from slotline.availability.domain.calendar_sync import (
    CALENDAR_SOURCE,
    Pulled,
    blocks_after,
    booking_uid,
    entered,
    is_ours,
    retry_delay,
)
from slotline.availability.domain.values import Interval, TimeOff
from slotline.availability.settings import AvailabilitySettings

pytestmark = pytest.mark.unit

NINE = datetime(2026, 12, 7, 9, tzinfo=UTC)


def hours(start: int, end: int) -> Interval:
    return Interval(NINE + timedelta(hours=start), NINE + timedelta(hours=end))


LEAVE = TimeOff(hours(0, 8))  # entered by hand


def block(uid: str, start: int, end: int) -> TimeOff:
    return TimeOff(hours(start, end), CALENDAR_SOURCE, uid)


class TestBlocksAfterAPull:
    def test_a_changed_event_replaces_only_its_own_blocks(self) -> None:
        current = (LEAVE, block("a", 1, 2), block("b", 3, 4))
        after = blocks_after(current, Pulled(full=False, busy={"a": (hours(5, 6),)}))
        assert set(after) == {LEAVE, block("a", 5, 6), block("b", 3, 4)}

    def test_a_deleted_event_takes_exactly_its_blocks_away(self) -> None:
        current = (LEAVE, block("a", 1, 2), block("a", 25, 26), block("b", 3, 4))
        after = blocks_after(current, Pulled(full=False, removed=frozenset({"a"})))
        assert set(after) == {LEAVE, block("b", 3, 4)}

    def test_a_full_listing_keeps_only_the_listed_events_and_the_time_off_by_hand(
        self,
    ) -> None:
        current = (LEAVE, block("a", 1, 2), block("gone", 3, 4))
        after = blocks_after(current, Pulled(full=True, busy={"a": (hours(1, 2),)}))
        assert set(after) == {LEAVE, block("a", 1, 2)}

    def test_our_own_bookings_never_become_blocks(self) -> None:
        uid = booking_uid("bk-1")
        assert is_ours(uid)
        assert not is_ours("dentist@example.com")
        after = blocks_after((), Pulled(full=True, busy={uid: (hours(1, 2),)}))
        assert after == ()

    def test_applying_one_pull_twice_changes_nothing(self) -> None:
        pulled = Pulled(full=False, busy={"a": (hours(1, 2), hours(1, 2), hours(26, 27))})
        once = blocks_after((LEAVE,), pulled)
        assert blocks_after(once, pulled) == once
        assert len(once) == 3  # a repeated busy time is one block

    def test_the_schedule_shows_only_time_off_by_hand(self) -> None:
        assert entered((LEAVE, block("a", 1, 2))) == (LEAVE,)

    def test_blocks_keep_their_source_and_uid_when_stored(self) -> None:
        stored = codec.time_off_from_data(codec.time_off_to_data((LEAVE, block("a", 1, 2))))
        assert stored == (LEAVE, block("a", 1, 2))
        assert codec.time_off_to_data((LEAVE,)) == [
            {"start": LEAVE.interval.start.isoformat(), "end": LEAVE.interval.end.isoformat()}
        ]


class TestRetryDelay:
    def test_the_delay_doubles_with_each_failure_up_to_the_ceiling_and_never_stops(
        self,
    ) -> None:
        interval, ceiling = timedelta(seconds=30), timedelta(minutes=15)
        delays = [retry_delay(n, interval, ceiling) for n in range(8)]
        assert delays[:4] == [interval, interval * 2, interval * 4, interval * 8]
        assert delays[-1] == ceiling
        assert delays == sorted(delays)
        assert retry_delay(10_000, interval, ceiling) == ceiling


class TestCredentialBox:
    key = base64.b64encode(bytes(range(32))).decode()

    def test_a_sealed_password_opens_for_its_resource_only(self) -> None:
        box, resource = CredentialBox(self.key), uuid.uuid4()
        sealed = box.seal(resource, "hunter2")
        assert b"hunter2" not in sealed
        assert box.open(resource, sealed) == "hunter2"
        assert box.seal(resource, "hunter2") != sealed  # a fresh nonce each time
        with pytest.raises(SealedPasswordUnreadable):
            box.open(uuid.uuid4(), sealed)

    def test_another_key_or_a_changed_byte_does_not_open_it(self) -> None:
        resource = uuid.uuid4()
        sealed = CredentialBox(self.key).seal(resource, "hunter2")
        other = CredentialBox(base64.b64encode(bytes(32)).decode())
        with pytest.raises(SealedPasswordUnreadable):
            other.open(resource, sealed)
        tampered = sealed[:-1] + bytes([sealed[-1] ^ 1])
        with pytest.raises(SealedPasswordUnreadable):
            CredentialBox(self.key).open(resource, tampered)

    def test_a_key_of_the_wrong_size_is_refused_and_never_shown(self) -> None:
        with pytest.raises(CredentialsKeyInvalid, match="7 bytes"):
            CredentialBox(base64.b64encode(b"short!!").decode())
        with pytest.raises(CredentialsKeyInvalid, match="not base64"):
            CredentialBox("%%%")
        assert self.key not in repr(CredentialBox(self.key))


class TestCalendarAddresses:
    @pytest.mark.parametrize(
        "url",
        [
            "http://127.0.0.1:5232/ana/cal/",
            "https://169.254.169.254/latest/meta-data/",
            "http://10.1.2.3/cal/",
            "http://[::1]/cal/",
            "http://localhost/cal/",
        ],
    )
    def test_loopback_private_and_link_local_hosts_are_refused_by_default(self, url: str) -> None:
        with pytest.raises(CalendarAddressRefused, match="SLOTLINE_CALENDAR_ALLOW_PRIVATE"):
            check_address(url, allow_private=False)
        check_address(url, allow_private=True)  # an operator may allow them

    def test_a_public_address_is_allowed_and_a_url_without_a_host_is_not(self) -> None:
        check_address("https://93.184.216.34/dav/cal/", allow_private=False)
        with pytest.raises(CalendarAddressRefused, match="with a host"):
            check_address("file:///etc/passwd", allow_private=True)


class TestProduction:
    def test_production_refuses_the_published_calendar_key(self) -> None:
        unset = AvailabilitySettings(environment="production")
        assert any("SLOTLINE_CALENDAR_CREDENTIALS_KEY" in r for r in unset.production_refusals())
        key = base64.b64encode(bytes(range(32))).decode()
        keyed = AvailabilitySettings(environment="production", calendar_credentials_key=key)
        assert keyed.production_refusals() == []
