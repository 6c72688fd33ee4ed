"""Which messages of a signed WhatsApp webhook a tenant takes: its own numbers, fresh."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from slotline.call_intake.domain.plan import CallPlan
from slotline.call_intake.whatsapp.admission import ForeignNumber, check_addressed_to, is_stale
from slotline.call_intake.whatsapp.payload import Notification

pytestmark = pytest.mark.unit

NOW = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)


def change(phone_number_id: str | None, *, messages: bool = True) -> dict[str, Any]:
    metadata = {"display_phone_number": "302100000001"}
    if phone_number_id is not None:
        metadata["phone_number_id"] = phone_number_id
    message = {"from": "306912340000", "id": "wamid.1", "timestamp": "1796112000"}
    return {"value": {"metadata": metadata, "messages": [message] if messages else []}}


def payload(*changes: dict[str, Any]) -> Notification:
    return Notification.model_validate({"entry": [{"changes": list(changes)}]})


class TestAPayloadIsForTheTenantWhoseNumberItNames:
    def test_every_message_to_our_numbers_is_ours(self) -> None:
        check_addressed_to(payload(change("111"), change("222")), frozenset({"111", "222"}))

    def test_one_message_to_another_number_refuses_the_payload(self) -> None:
        with pytest.raises(ForeignNumber) as refused:
            check_addressed_to(payload(change("111"), change("999")), frozenset({"111"}))
        assert refused.value.phone_number_id == "999"
        assert str(refused.value) == "phone_number_id 999 is not a WhatsApp number of this tenant"

    def test_a_message_naming_no_number_belongs_to_nobody(self) -> None:
        with pytest.raises(ForeignNumber, match="names no phone_number_id"):
            check_addressed_to(payload(change(None)), frozenset({"111"}))

    def test_a_tenant_without_numbers_takes_no_message(self) -> None:
        with pytest.raises(ForeignNumber):
            check_addressed_to(payload(change("111")), frozenset())

    def test_status_updates_alone_are_not_checked(self) -> None:
        check_addressed_to(payload(change("999", messages=False)), frozenset())


class TestAStaleMessage:
    def test_is_one_sent_longer_ago_than_the_limit(self) -> None:
        limit = timedelta(seconds=300)
        assert is_stale(NOW - timedelta(seconds=301), NOW, limit)
        assert not is_stale(NOW - timedelta(seconds=300), NOW, limit)

    def test_a_message_from_a_little_ahead_of_our_clock_is_not_stale(self) -> None:
        assert not is_stale(NOW + timedelta(seconds=30), NOW, timedelta(seconds=300))


class TestThePlansWhatsAppNumbers:
    BASE: dict[str, Any] = {
        "business_name": "Kifisia Dental",
        "time_zone": "Europe/Athens",
        "teams": [{"team_id": "desk", "members": [{"staff_id": "m", "phone": "+302100000011"}]}],
        "booking_url": "https://book.example.com/kifisia",
    }

    def test_are_named_by_metas_phone_number_id_and_are_the_business_own(self) -> None:
        plan = CallPlan.model_validate(
            self.BASE
            | {
                "whatsapp_numbers": [
                    {"phone_number_id": "106540352242922", "number": "+302100000001"}
                ]
            }
        )
        assert plan.whatsapp_number_ids() == frozenset({"106540352242922"})
        assert "+302100000001" in plan.business_numbers()
