"""The rules of outbound webhooks: stable ids, retries for 3 days, pausing, rotation,
and the SSRF guard (which addresses a webhook may reach)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from standardwebhooks import Webhook

from slotline.events.outbound import AddressGuard, UnsafeUrl, checked_url, forbidden_address
from slotline.notifier.application.webhooks import new_secret
from slotline.notifier.domain.webhooks import (
    Health,
    PausePolicy,
    RetryPolicy,
    SigningKey,
    delivery_id,
    next_attempt_at,
    rotated,
    should_pause,
    signing_keys,
)
from slotline.notifier.persistence.webhooks import Claimed
from slotline.notifier.webhooks.sender import WebhookHttp, signature_header

pytestmark = pytest.mark.unit

NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)


class TestDeliveryId:
    def test_one_event_for_one_subscription_has_one_id_however_often_it_is_made(self) -> None:
        assert delivery_id("e-1", "whs_a") == delivery_id("e-1", "whs_a")
        assert delivery_id("e-1", "whs_a").startswith("msg_")

    def test_each_subscription_and_each_event_has_its_own_id(self) -> None:
        ids = {delivery_id(e, s) for e in ("e-1", "e-2") for s in ("whs_a", "whs_b")}
        assert len(ids) == 4


class TestRetries:
    def test_the_wait_doubles_from_the_first_and_is_capped(self) -> None:
        policy = RetryPolicy(timedelta(seconds=5), timedelta(minutes=1), timedelta(days=3))
        waits = [next_attempt_at(policy, n, NOW, NOW) for n in range(1, 7)]
        assert [(w - NOW).total_seconds() for w in waits if w] == [5, 10, 20, 40, 60, 60]

    def test_a_delivery_failing_for_three_days_has_failed(self) -> None:
        policy = RetryPolicy()
        assert next_attempt_at(policy, 30, NOW, NOW + timedelta(days=3) - timedelta(seconds=1))
        assert next_attempt_at(policy, 30, NOW, NOW + timedelta(days=3)) is None


class TestPause:
    def test_an_endpoint_is_paused_after_enough_failures_over_enough_time(self) -> None:
        policy = PausePolicy(failures=3, failing_for=timedelta(hours=1))
        health = Health()
        for minute in range(3):
            health = health.after(False, NOW + timedelta(minutes=minute))
        assert health == Health(3, NOW)
        assert not should_pause(policy, health, NOW + timedelta(minutes=59))
        assert should_pause(policy, health, NOW + timedelta(hours=1))

    def test_one_success_ends_the_failures_in_a_row(self) -> None:
        health = Health(9, NOW).after(True, NOW)
        assert health == Health()
        assert not should_pause(PausePolicy(failures=1, failing_for=timedelta(0)), health, NOW)


class TestRotation:
    def test_the_old_secret_signs_beside_the_new_until_the_overlap_ends(self) -> None:
        old, new = new_secret(), new_secret()
        keys = rotated((SigningKey(old),), new, NOW, timedelta(hours=24))
        assert [k.secret for k in signing_keys(keys, NOW + timedelta(hours=23))] == [new, old]
        assert [k.secret for k in signing_keys(keys, NOW + timedelta(hours=24))] == [new]

    def test_a_second_rotation_keeps_no_key_past_its_own_end(self) -> None:
        first, second, third = new_secret(), new_secret(), new_secret()
        keys = rotated((SigningKey(first),), second, NOW, timedelta(hours=1))
        keys = rotated(keys, third, NOW + timedelta(minutes=30), timedelta(hours=24))
        ends = {k.secret: k.expires_at for k in keys}
        assert ends[first] == NOW + timedelta(hours=1)
        assert ends[second] == NOW + timedelta(minutes=30, hours=24)
        assert ends[third] is None

    def test_every_key_that_signs_verifies_the_header(self) -> None:
        # rotated now, on the real clock: a receiver checks the header's time against its
        # own (a fixed NOW here made the old key expire on the wall clock a day later)
        now = datetime.now(UTC)
        old, new = new_secret(), new_secret()
        keys = rotated((SigningKey(old),), new, now, timedelta(hours=24))
        claimed = Claimed("msg_1", "t", "whs_a", '{"a":1}', 1, now, "https://x", keys)
        headers = {
            "webhook-id": "msg_1",
            "webhook-timestamp": str(int(now.timestamp())),
            "webhook-signature": signature_header(claimed, now),
        }
        for secret in (old, new):
            assert Webhook(secret).verify(claimed.body, headers) == {"a": 1}


class TestAddresses:
    @pytest.mark.parametrize(
        "address",
        ["127.0.0.1", "10.1.2.3", "192.168.0.10", "172.16.5.5", "169.254.169.254", "::1",
         "fe80::1", "::ffff:127.0.0.1", "0.0.0.0", "100.64.0.1", "fc00::1"],
    )  # fmt: skip
    def test_non_public_addresses_are_forbidden(self, address: str) -> None:
        assert forbidden_address(address) is not None

    @pytest.mark.parametrize("address", ["93.184.215.14", "2606:4700::6810:84e5"])
    def test_public_addresses_are_allowed(self, address: str) -> None:
        assert forbidden_address(address) is None

    @pytest.mark.parametrize(
        "url",
        ["ftp://example.com/", "https://user:pw@example.com/", "https:///path",
         "https://example.com/#top", "https://example.com:99999/"],
    )  # fmt: skip
    def test_urls_a_webhook_may_never_go_to(self, url: str) -> None:
        with pytest.raises(UnsafeUrl):
            checked_url(url)

    @pytest.mark.parametrize("url", ["http://127.0.0.1:8080/hook", "http://localhost/hook"])
    def test_a_subscription_to_a_local_address_is_refused_unless_the_operator_allows_it(
        self, url: str
    ) -> None:
        with pytest.raises(UnsafeUrl, match="loopback"):
            AddressGuard(allow_private=False).check(url)
        AddressGuard(allow_private=True).check(url)

    async def test_a_delivery_to_a_local_address_is_refused_before_any_connection(self) -> None:
        http = WebhookHttp(AddressGuard(allow_private=False), timeout_seconds=1)
        claimed = Claimed(
            "msg_1", "t", "whs_a", "{}", 1, NOW, "http://127.0.0.1:9/", (SigningKey(new_secret()),)
        )
        outcome = await http.send(claimed, NOW)
        await http.close()
        assert outcome.status is None
        assert outcome.error is not None
        assert outcome.error.startswith("refused: ")
        assert "loopback" in outcome.error
