"""How a service proves itself to Kafka and keeps the wire private: TLS and SASL/SCRAM.

Every Kafka client of a service (the relay's producer, the inbox's consumers, the admin
that creates topics, the CLI's tail and replay) takes the same options from
:class:`KafkaSecurity`, so a service cannot have one client on TLS and another in clear.
Locally the embedded broker speaks plain Kafka; in production (``SLOTLINE_ENVIRONMENT=
prod``) a service refuses to start unless it uses TLS and authenticates with SCRAM, and
the broker's ACLs (``deploy/k8s/components/kafka-users``) let each service's user write
only its own topics.
"""

from __future__ import annotations

import ssl
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, SecretStr

if TYPE_CHECKING:
    from faststream.security import BaseSecurity

Protocol = Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"]
Mechanism = Literal["SCRAM-SHA-256", "SCRAM-SHA-512"]


class KafkaSecurity(BaseModel):
    """The security part of a service's Kafka settings."""

    protocol: Protocol = "PLAINTEXT"
    mechanism: Mechanism = "SCRAM-SHA-512"
    username: str | None = None
    password: SecretStr | None = None
    ca_file: str | None = None

    @property
    def uses_tls(self) -> bool:
        return self.protocol in ("SSL", "SASL_SSL")

    @property
    def uses_sasl(self) -> bool:
        return self.protocol in ("SASL_PLAINTEXT", "SASL_SSL")

    def problems(self) -> list[str]:
        """What is missing for the chosen protocol (checked at start-up)."""
        found = []
        if self.uses_sasl and not (self.username and self.password):
            found.append(
                "SLOTLINE_KAFKA_SASL_USERNAME and SLOTLINE_KAFKA_SASL_PASSWORD are needed "
                f"with SLOTLINE_KAFKA_SECURITY_PROTOCOL={self.protocol}"
            )
        return found

    def production_refusals(self) -> list[str]:
        """Production talks to Kafka over TLS and authenticates (ACLs need a user)."""
        if self.protocol != "SASL_SSL":
            return [
                f"SLOTLINE_KAFKA_SECURITY_PROTOCOL is {self.protocol}: production needs "
                "SASL_SSL (TLS, and a SCRAM user the broker's ACLs know)"
            ]
        return self.problems()

    def _ssl_context(self) -> ssl.SSLContext:
        """Verifies the broker's certificate and name (the CA bundle, or the system's)."""
        from aiokafka.helpers import create_ssl_context

        context: ssl.SSLContext = create_ssl_context(cafile=self.ca_file)
        return context

    def client_options(self) -> dict[str, Any]:
        """Keyword arguments for any aiokafka client (producer, consumer, admin)."""
        if self.problems():
            raise ValueError("; ".join(self.problems()))
        options: dict[str, Any] = {"security_protocol": self.protocol}
        if self.uses_tls:
            options["ssl_context"] = self._ssl_context()
        if self.uses_sasl:
            assert self.password is not None
            options.update(
                sasl_mechanism=self.mechanism,
                sasl_plain_username=self.username,
                sasl_plain_password=self.password.get_secret_value(),
            )
        return options

    def broker_security(self) -> BaseSecurity | None:
        """The same for a FastStream broker."""
        from faststream.security import BaseSecurity, SASLScram256, SASLScram512

        if self.problems():
            raise ValueError("; ".join(self.problems()))
        context = self._ssl_context() if self.uses_tls else None
        if self.uses_sasl:
            assert self.username is not None
            assert self.password is not None
            scram = SASLScram512 if self.mechanism == "SCRAM-SHA-512" else SASLScram256
            return scram(
                self.username,
                self.password.get_secret_value(),
                ssl_context=context,
                use_ssl=self.uses_tls,
            )
        if self.uses_tls:
            return BaseSecurity(ssl_context=context, use_ssl=True)
        return None
