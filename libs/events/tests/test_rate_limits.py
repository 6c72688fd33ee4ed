"""Rate limits counted in PostgreSQL: every replica of a service shares one count, the
client is who the trusted proxies say it is, and a refusal says the limit and when to
come back. Day-long windows: a test never straddles two of them (the sliding window
counter lets a little more through just after a window turns)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from types import SimpleNamespace

import httpx
import pytest
from fastapi import Depends, FastAPI
from psycopg import sql
from pydantic import ValidationError

from slotline.events.rate_limits import PostgresStorage, RateLimit, limited
from slotline.events.settings import ServiceSettings
from slotline.events.testing.tally import TallyApplication

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]


def storage_of(app: TallyApplication, *, single_statements: bool = False) -> PostgresStorage:
    """A storage over ``app``'s database; ``single_statements``: hits as the services make
    them, each statement committing on its own once the table is there."""
    recorder = app.sql_recorder
    return PostgresStorage(
        lambda: recorder.transaction(commit=True),
        app.schema,
        statement=recorder.datastore.cursor if single_statements else None,
    )


def replica(app: TallyApplication, limit: str, trusted_proxy_hops: int = 0) -> FastAPI:
    """One process of a service: its own app state, the service's database."""
    api = FastAPI()
    api.state.runtime = SimpleNamespace(
        application=app,
        settings=ServiceSettings(webhook_rate_limit=limit, trusted_proxy_hops=trusted_proxy_hops),
    )
    guard = limited("hooks", lambda settings: settings.webhook_rate_limit, "webhooks")

    @api.post("/v1/webhooks/{tenant_id}", dependencies=[Depends(guard)])
    def hook(tenant_id: str) -> dict[str, str]:
        return {"ok": tenant_id}

    return api


def client(api: FastAPI) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=api), base_url="http://t")


class TestSharedAcrossReplicas:
    async def test_two_replicas_count_one_client_together(
        self, tally_app: TallyApplication
    ) -> None:
        first, second = (
            client(replica(tally_app, "3/day")),
            client(replica(tally_app, "3/day")),
        )
        answers = [
            (await first.post("/v1/webhooks/demo")).status_code,
            (await second.post("/v1/webhooks/demo")).status_code,
            (await first.post("/v1/webhooks/demo")).status_code,
        ]
        refused = await second.post("/v1/webhooks/demo")
        assert answers == [200, 200, 200]
        assert refused.status_code == 429
        assert 1 <= int(refused.headers["Retry-After"]) <= 2 * 86400
        assert refused.headers["X-RateLimit-Limit"] == "3 per 1 day"
        assert "at most 3 per 1 day" in refused.json()["detail"]
        other_tenant = await second.post("/v1/webhooks/other")
        assert other_tenant.status_code == 200

    @pytest.mark.parametrize("single_statements", [False, True])
    def test_concurrent_hits_never_pass_the_limit(
        self, tally_app: TallyApplication, single_statements: bool
    ) -> None:
        storages = [storage_of(tally_app, single_statements=single_statements) for _ in range(4)]
        storages[0].prepare()  # the table is there: the others take their quick path
        for storage in storages:
            storage._ready = True
        limits = [RateLimit(storage, "10/day", "race") for storage in storages]
        with ThreadPoolExecutor(8) as pool:
            waits = list(pool.map(lambda n: limits[n % 4].hit("10.0.0.9"), range(40)))
        assert sum(wait is None for wait in waits) == 10


class TestTheSlidingWindow:
    """The previous window's count weighs in by how much of it the moving window still
    covers (``limits``' sliding window counter), read in the same statement as the hit."""

    @pytest.mark.parametrize(
        ("previous_hits", "allowed"),
        [(0, 10), (10, 1), (5, 6)],  # 10 % into the window: the previous one weighs 0.9
    )
    def test_the_previous_window_weighs_in(
        self,
        tally_app: TallyApplication,
        monkeypatch: pytest.MonkeyPatch,
        previous_hits: int,
        allowed: int,
    ) -> None:
        hour = 3600
        now = 500_000 * hour + 360.0  # 10 % into an hour's window
        monkeypatch.setattr("slotline.events.rate_limits.time", SimpleNamespace(time=lambda: now))
        storage = storage_of(tally_app, single_statements=True)
        storage.prepare()
        limit = RateLimit(storage, "10/hour", "sliding")
        previous, _ = storage.sliding_window_keys(
            limit.item.key_for("sliding", "10.0.0.7"), hour, now
        )
        if previous_hits:
            with storage.transaction() as cursor:
                cursor.execute(
                    sql.SQL("INSERT INTO {} (key, hits, expires_at) VALUES (%s, %s, %s)").format(
                        storage.table
                    ),
                    (previous, previous_hits, now + hour),
                )
        waits = [limit.hit("10.0.0.7") for _ in range(12)]
        assert sum(wait is None for wait in waits) == allowed


class TestTheClientAddress:
    async def test_without_trusted_proxies_a_forwarded_for_header_changes_nothing(
        self, tally_app: TallyApplication
    ) -> None:
        api = client(replica(tally_app, "1/day"))
        assert (
            await api.post("/v1/webhooks/demo", headers={"X-Forwarded-For": "1.1.1.1"})
        ).status_code == 200
        spoofed = await api.post("/v1/webhooks/demo", headers={"X-Forwarded-For": "2.2.2.2"})
        assert spoofed.status_code == 429

    async def test_behind_one_proxy_the_address_it_appended_is_the_client(
        self, tally_app: TallyApplication
    ) -> None:
        api = client(replica(tally_app, "1/day", trusted_proxy_hops=1))
        first = await api.post("/v1/webhooks/demo", headers={"X-Forwarded-For": "9.9.9.9, 1.1.1.1"})
        other = await api.post("/v1/webhooks/demo", headers={"X-Forwarded-For": "1.1.1.2"})
        forged = await api.post(
            "/v1/webhooks/demo", headers={"X-Forwarded-For": "8.8.8.8, 1.1.1.1"}
        )
        assert (first.status_code, other.status_code, forged.status_code) == (200, 200, 429)


def test_a_limit_setting_that_does_not_parse_stops_the_service_at_start() -> None:
    with pytest.raises(ValidationError, match="webhook_rate_limit"):
        ServiceSettings(webhook_rate_limit="lots")
    assert ServiceSettings(webhook_rate_limit="5/day").webhook_rate_limit == "5/day"
