"""The audit trail: every access a route declares is kept (who — a user id —, what,
when, from where), append-only, queryable, published without personal data; reading
many distinct items quickly raises an alert."""

from __future__ import annotations

from typing import Annotated

import psycopg
import pytest
from fastapi import APIRouter, Depends

from slotline.events.audit import audited
from slotline.events.auth import Principal
from slotline.events.contract.audit import AccessAudited, UnusualAccessDetected
from slotline.events.contract.registry import parse_message
from slotline.events.local.infra import free_port
from slotline.events.runtime import ServiceSpec
from slotline.events.settings import ServiceSettings
from slotline.events.testing.reading import eventually, read_topic
from slotline.events.testing.service import bearer, running
from slotline.events.testing.tally import TallyApplication, tally_publisher
from slotline.events.topics import AUDIT_EVENTS

pytestmark = pytest.mark.integration

router = APIRouter()


@router.get("/v1/customers/{customer_id}")
async def read_customer(
    customer_id: str,
    who: Annotated[Principal, Depends(audited("customer", "customer_id"))],
) -> dict[str, str]:
    return {"customer_id": customer_id, "read_by": who.subject}


def spec(database_url: str, bootstrap: str, name: str = "audited") -> ServiceSpec[TallyApplication]:
    settings = ServiceSettings(
        service_name=name,
        database_url=database_url,
        kafka_bootstrap=bootstrap,
        http_port=free_port(),
        audit_alert_distinct_items=3,
        relay_idle_poll_seconds=0.2,
    )
    return ServiceSpec(
        settings=settings,
        application_factory=lambda env: TallyApplication(env=env),
        publisher=tally_publisher,
        routers=[router],
    )


async def test_reads_are_kept_append_only_published_and_a_spree_is_flagged(
    database_url: str, kafka_bootstrap: str
) -> None:
    headers = bearer("front_desk", "clinic", subject="maria")
    async with running(spec(database_url, kafka_bootstrap)) as service:
        for customer in ("c1", "c2", "c2", "c3", "c4"):
            response = await service.client.get(f"/v1/customers/{customer}", headers=headers)
            assert response.status_code == 200

        owner = bearer("owner", "clinic", subject="the-owner")
        trail = (await service.client.get("/v1/audit?actor=maria", headers=owner)).json()
        assert [row["item_id"] for row in trail] == ["c4", "c3", "c2", "c2", "c1"]
        assert (await service.client.get("/v1/audit", headers=headers)).status_code == 403
        records = await read_topic(kafka_bootstrap, AUDIT_EVENTS, expected=6, timeout=30)
    published = [parse_message(AUDIT_EVENTS, r.value or b"") for r in records]
    reads = [m for m in published if isinstance(m, AccessAudited)]
    assert sorted(m.item_id for m in reads) == ["c1", "c2", "c2", "c3", "c4"]  # keyed apart
    assert {m.actor for m in reads} == {"maria"}, "a user id, not a role"
    assert all(m.action == "GET /v1/customers/{customer_id}" for m in reads)
    [alert] = [m for m in published if isinstance(m, UnusualAccessDetected)]
    assert alert.distinct_items == 4
    assert alert.actor == "maria"

    with psycopg.connect(database_url) as conn:
        rows = conn.execute("SELECT item_id FROM audited.audit_log ORDER BY seq").fetchall()
        assert [r[0] for r in rows] == ["c1", "c2", "c2", "c3", "c4"]
        with pytest.raises(psycopg.errors.RaiseException, match="append-only"):
            conn.execute("DELETE FROM audited.audit_log")


async def test_a_refused_caller_leaves_no_record(database_url: str, kafka_bootstrap: str) -> None:
    async with running(spec(database_url, kafka_bootstrap)) as service:
        response = await service.client.get("/v1/customers/c9")
        assert response.status_code == 401

        async def nothing_kept() -> bool:
            with psycopg.connect(database_url) as conn:
                exists = conn.execute("SELECT to_regclass('audited.audit_log')").fetchone()
                if exists is None or exists[0] is None:
                    return True
                return conn.execute("SELECT count(*) FROM audited.audit_log").fetchone() == (0,)

        await eventually(nothing_kept)


async def test_an_owner_asking_before_any_access_was_kept_gets_an_empty_trail(
    database_url: str, kafka_bootstrap: str
) -> None:
    owner = bearer("owner", "clinic", subject="the-owner")
    async with running(spec(database_url, kafka_bootstrap, name="unread")) as service:
        for _ in range(2):  # a read-only look creates nothing, and breaks no later look
            response = await service.client.get("/v1/audit?actor=maria", headers=owner)
            assert (response.status_code, response.json()) == (200, [])
        headers = bearer("front_desk", "clinic", subject="maria")
        assert (await service.client.get("/v1/customers/c1", headers=headers)).status_code == 200
        trail = (await service.client.get("/v1/audit?actor=maria", headers=owner)).json()
    assert [row["item_id"] for row in trail] == ["c1"]
