"""Every Kafka client of a service takes TLS and SCRAM from the same settings.

The embedded broker (Tansu 0.6) cannot serve TLS or keep SCRAM users (see
docs/security.md), so these check what reaches the clients; the production refusal is
in tests/operations/test_production_secrets.py and the ACLs in tests/deploy.
"""

from __future__ import annotations

import ssl
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from faststream.security import BaseSecurity, SASLScram512

from slotline.events.kafka import build_broker, build_producer, client_options
from slotline.events.kafka_security import KafkaSecurity
from slotline.events.settings import ServiceSettings
from slotline.events.topic_access import UndeclaredRead, check_reads

pytestmark = pytest.mark.unit


@pytest.fixture(scope="module")
def ca_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A self-signed CA certificate, as Strimzi's cluster CA would be mounted."""
    from datetime import UTC, datetime, timedelta

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, "cluster-ca")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    path = tmp_path_factory.mktemp("kafka-ca") / "ca.crt"
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return path


def test_locally_clients_speak_plain_kafka() -> None:
    settings = ServiceSettings()
    assert client_options(settings) == {
        "bootstrap_servers": settings.kafka_bootstrap,
        "security_protocol": "PLAINTEXT",
    }
    assert settings.kafka_security.broker_security() is None


async def test_scram_over_tls_reaches_every_client(ca_file: Path) -> None:
    settings = ServiceSettings(
        kafka_security_protocol="SASL_SSL",
        kafka_sasl_username="slotline-kafka-booking",
        kafka_sasl_password="s3cret",
        kafka_ssl_ca_file=str(ca_file),
    )
    options = client_options(settings)
    assert options["security_protocol"] == "SASL_SSL"
    assert options["sasl_mechanism"] == "SCRAM-SHA-512"
    assert options["sasl_plain_username"] == "slotline-kafka-booking"
    assert options["sasl_plain_password"] == "s3cret"
    context: ssl.SSLContext = options["ssl_context"]
    assert context.verify_mode == ssl.CERT_REQUIRED
    assert context.check_hostname
    assert [c["subject"] for c in context.get_ca_certs()] == [((("commonName", "cluster-ca"),),)]

    producer = build_producer(settings)  # an aiokafka client wants a running loop
    assert producer.client._security_protocol == "SASL_SSL"
    assert producer.client._sasl_plain_username == "slotline-kafka-booking"
    security = settings.kafka_security.broker_security()
    assert isinstance(security, SASLScram512)
    assert security.use_ssl
    assert security.ssl_context is not None
    assert build_broker(settings) is not None


def test_tls_alone_verifies_the_brokers(ca_file: Path) -> None:
    security = KafkaSecurity(protocol="SSL", ca_file=str(ca_file))
    assert "sasl_mechanism" not in security.client_options()
    broker = security.broker_security()
    assert type(broker) is BaseSecurity
    assert broker.use_ssl


def test_sasl_without_a_user_is_refused_before_connecting() -> None:
    security = KafkaSecurity(protocol="SASL_SSL", username="slotline-kafka-booking")
    with pytest.raises(ValueError, match="SLOTLINE_KAFKA_SASL_PASSWORD"):
        security.client_options()
    assert security.production_refusals()
    assert KafkaSecurity().production_refusals() == [
        "SLOTLINE_KAFKA_SECURITY_PROTOCOL is PLAINTEXT: production needs SASL_SSL (TLS, and "
        "a SCRAM user the broker's ACLs know)"
    ]


def test_a_subscription_its_kafka_user_may_not_read_stops_the_service() -> None:
    check_reads("payments", {"booking.events.v1"})
    check_reads("a-test-service", {"anything.v1"})  # not a deployed service: no ACLs
    with pytest.raises(UndeclaredRead, match=r"calls\.events\.v1"):
        check_reads("payments", {"booking.events.v1", "calls.events.v1"})
