"""In production a service does not start on a published secret, the payment simulator
or the local message outbox — it exits at once and names the settings to set."""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Any

import pytest

from slotline.booking.settings import BookingSettings
from slotline.events.production import UnsafeForProduction, refuse_unsafe_production
from slotline.payments.settings import PaymentsSettings

pytestmark = pytest.mark.integration

PRODUCTION = {"SLOTLINE_ENVIRONMENT": "prod", "SLOTLINE_DATABASE_URL": "postgresql://nowhere/x"}
KAFKA_SCRAM_OVER_TLS: dict[str, Any] = {
    "kafka_security_protocol": "SASL_SSL",
    "kafka_sasl_username": "slotline-kafka-booking",
    "kafka_sasl_password": "from-the-user-secret",
}


def start(module: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("SLOTLINE_")}
    return subprocess.run(
        [sys.executable, "-m", module],
        env={**clean, **PRODUCTION, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize(
    ("module", "named"),
    [
        ("slotline.booking", "SLOTLINE_MANAGE_LINK_SECRET"),
        ("slotline.payments", "SLOTLINE_GATEWAY_WEBHOOK_SECRET"),
        ("slotline.notifier", "SLOTLINE_FEED_SECRET"),
        ("slotline.call_intake", "SLOTLINE_TWILIO_AUTH_TOKEN"),
    ],
)
def test_a_service_on_published_secrets_refuses_to_start_and_says_what_to_set(
    module: str, named: str
) -> None:
    run = start(module)
    assert run.returncode != 0
    assert "refusing to start in production" in run.stderr, run.stderr[-2000:]
    for setting in (named, "SLOTLINE_AUTH_SECRET", "SLOTLINE_PRIVACY_MASTER_KEY"):
        assert setting in run.stderr, setting


def test_payments_refuses_the_card_network_simulator_in_production() -> None:
    run = start(
        "slotline.payments",
        SLOTLINE_GATEWAY_WEBHOOK_SECRET="whsec_own",
        SLOTLINE_AUTH_SECRET="x" * 40,
        SLOTLINE_PRIVACY_MASTER_KEY="a2V5LWtleS1rZXkta2V5LWtleS1rZXkta2V5LWtleS1rZXk=",
    )
    assert "SLOTLINE_GATEWAY is the card-network simulator" in run.stderr, run.stderr[-2000:]
    assert "SLOTLINE_GATEWAY_WEBHOOK_SECRET" not in run.stderr


def test_with_its_own_secrets_a_service_passes_the_check(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SLOTLINE_AUTH_SECRET", "y" * 40)
    settings = BookingSettings(
        environment="prod",
        manage_link_secret="own-manage-link-secret-0123456789",
        privacy_master_key="a2V5LWtleS1rZXkta2V5LWtleS1rZXkta2V5LWtleS1rZXk=",
        **KAFKA_SCRAM_OVER_TLS,
    )
    refuse_unsafe_production(settings, *settings.production_refusals())  # no exit
    local = BookingSettings()
    refuse_unsafe_production(local)  # not production: the defaults are fine
    with pytest.raises(UnsafeForProduction, match="SLOTLINE_MANAGE_LINK_SECRET"):
        refuse_unsafe_production(BookingSettings(environment="production"))
    assert PaymentsSettings(gateway="stripe", stripe_api_key="sk_x").production_refusals() == []


def test_in_production_kafka_must_be_tls_with_a_scram_user(monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 17.5: plain Kafka, TLS without a user, or a user without a password each
    stop a production service at start-up, and the message says what to set."""
    monkeypatch.setenv("SLOTLINE_AUTH_SECRET", "y" * 40)
    own: dict[str, Any] = {
        "environment": "prod",
        "manage_link_secret": "own-manage-link-secret-0123456789",
        "privacy_master_key": "a2V5LWtleS1rZXkta2V5LWtleS1rZXkta2V5LWtleS1rZXk=",
    }
    cases: tuple[tuple[dict[str, Any], str], ...] = (
        ({}, "SLOTLINE_KAFKA_SECURITY_PROTOCOL is PLAINTEXT"),
        ({"kafka_security_protocol": "SSL"}, "SLOTLINE_KAFKA_SECURITY_PROTOCOL is SSL"),
        (
            {**KAFKA_SCRAM_OVER_TLS, "kafka_sasl_password": None},
            "SLOTLINE_KAFKA_SASL_PASSWORD",
        ),
    )
    for kafka, named in cases:
        with pytest.raises(UnsafeForProduction, match=named):
            refuse_unsafe_production(BookingSettings(**own, **kafka))
    run = start("slotline.booking")
    assert "SLOTLINE_KAFKA_SECURITY_PROTOCOL is PLAINTEXT" in run.stderr, run.stderr[-2000:]


async def test_in_production_there_is_no_api_map_and_readiness_names_no_host(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """/docs and /openapi.json are for developers (SLOTLINE_API_DOCS turns them on);
    /readyz says a dependency is down without echoing its error (hosts, users)."""
    import httpx

    from slotline.booking.wiring import service_spec
    from slotline.events.runtime import build_http_app

    monkeypatch.setenv("SLOTLINE_AUTH_SECRET", "z" * 40)
    secret = "own-manage-link-secret-0123456789"
    master_key = "a2V5LWtleS1rZXkta2V5LWtleS1rZXkta2V5LWtleS1rZXk="
    database_url = "postgresql://secret_user:pw@db.internal.example:5432/x"
    for environment, docs in (("prod", 404), ("local", 200)):
        settings = BookingSettings(
            environment=environment,
            manage_link_secret=secret,
            privacy_master_key=master_key,
            database_url=database_url,
            **KAFKA_SCRAM_OVER_TLS,
        )
        app = build_http_app(service_spec(settings))
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://svc") as client:
            assert (await client.get("/openapi.json")).status_code == docs, environment
            assert (await client.get("/docs")).status_code == docs, environment
            ready = await client.get("/readyz")
        assert ready.status_code == 503
        assert ready.json()["checks"]["database"]["detail"] == "unreachable"
        assert "db.internal.example" not in ready.text
        assert "secret_user" not in ready.text
    on = BookingSettings(
        environment="prod",
        api_docs=True,
        manage_link_secret=secret,
        privacy_master_key=master_key,
        database_url=database_url,
        **KAFKA_SCRAM_OVER_TLS,
    )
    transport = httpx.ASGITransport(app=build_http_app(service_spec(on)))
    async with httpx.AsyncClient(transport=transport, base_url="http://svc") as client:
        assert (await client.get("/openapi.json")).status_code == 200
