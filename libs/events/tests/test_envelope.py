"""The envelope: every message names its type and version and keeps causation."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import ClassVar

import pytest
from pydantic import ValidationError

from slotline.events.contract.registry import InvalidMessage, parse_message
from slotline.events.envelope import Message
from slotline.events.store import postgres_env

pytestmark = pytest.mark.unit


class Pinged(Message):
    EVENT_TYPE: ClassVar[str] = "Pinged"
    SCHEMA_VERSION: ClassVar[int] = 2
    TOPIC: ClassVar[str] = "test.v1"
    note: str


class TestEnvelope:
    def test_type_and_version_default_from_the_class(self) -> None:
        ping = Pinged(tenant_id="t", aggregate_id="a", note="hi")
        assert (ping.event_type, ping.schema_version) == ("Pinged", 2)

    def test_a_message_claiming_another_type_or_version_is_refused(self) -> None:
        with pytest.raises(ValidationError, match="event_type='Pinged' schema_version=2"):
            Pinged(tenant_id="t", aggregate_id="a", note="x", event_type="Other")
        with pytest.raises(ValidationError, match="got 'Pinged' v1"):
            Pinged(tenant_id="t", aggregate_id="a", note="x", schema_version=1)

    def test_occurred_at_is_kept_in_utc_and_naive_times_are_refused(self) -> None:
        athens = timezone(timedelta(hours=2))
        ping = Pinged(
            tenant_id="t",
            aggregate_id="a",
            note="x",
            occurred_at=datetime(2026, 3, 1, 12, tzinfo=athens),
        )
        assert ping.occurred_at.utcoffset() == timedelta(0)
        assert ping.occurred_at.hour == 10
        with pytest.raises(ValidationError, match="occurred_at"):
            Pinged(tenant_id="t", aggregate_id="a", note="x", occurred_at=datetime(2026, 3, 1))

    def test_a_caused_message_inherits_tenant_and_correlation(self) -> None:
        cause = Pinged(tenant_id="t1", aggregate_id="a", note="x", correlation_id="flow")
        effect = Pinged.caused_by(cause, aggregate_id="b", note="y")
        assert effect.tenant_id == "t1"
        assert effect.correlation_id == "flow"
        assert effect.causation_id == str(cause.event_id)

    def test_json_round_trip_is_lossless(self) -> None:
        ping = Pinged(tenant_id="t", aggregate_id="a", note="ü", sequence=7)
        assert Pinged.model_validate_json(ping.to_json()) == ping

    def test_a_consumer_ignores_fields_added_after_it_was_built(self) -> None:
        newer = (
            b'{"event_type": "Pinged", "schema_version": 2, "tenant_id": "t",'
            b' "aggregate_id": "a", "note": "x", "added_later": 1}'
        )
        assert Pinged.model_validate_json(newer).note == "x"

    @pytest.mark.parametrize("edge", ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00"])
    def test_an_instant_out_of_range_in_utc_is_a_contract_violation_not_a_crash(
        self, edge: str
    ) -> None:
        raw = (
            b'{"event_type":"BookingCancellationRequested","schema_version":1,"tenant_id":"t",'
            b'"aggregate_id":"b","request_id":"r","booking_id":"b","channel":"web",'
            b'"occurred_at":"' + edge.encode() + b'"}'
        )
        with pytest.raises(InvalidMessage, match="occurred_at: Value error, out of range"):
            parse_message("booking.requests.v1", raw)


class TestStoreEnvironment:
    def test_a_socket_url_becomes_eventsourcing_settings(self) -> None:
        env = postgres_env("postgresql://postgres@/slotline?host=/tmp/pg", "booking")
        assert env["POSTGRES_HOST"] == "/tmp/pg"
        assert env["POSTGRES_DBNAME"] == "slotline"
        assert env["POSTGRES_SCHEMA"] == "booking"

    def test_a_tcp_url_keeps_credentials_and_port(self) -> None:
        env = postgres_env("postgresql://u:p%40ss@db.internal:6543/s", "payments")
        assert (env["POSTGRES_HOST"], env["POSTGRES_PORT"]) == ("db.internal", "6543")
        assert (env["POSTGRES_USER"], env["POSTGRES_PASSWORD"]) == ("u", "p@ss")
