"""A PaymentIntent opened for the booking page's Payment Element and confirmed by the
customer's browser is the deposit's authorisation — only after payments checks it
against its own records: opened for this tenant and amount, confirmed, not used by
another payment. Played on the card-network simulator (Stripe's shapes, real DB)."""

from __future__ import annotations

from uuid import uuid4

import pytest

from slotline.payments.domain.facts import AuthorizationRefused, Authorized
from slotline.payments.gateway.port import IntentToOpen, PaymentRequest
from slotline.payments.gateway.simulated import SimulatedGateway
from slotline.payments.gateway.simulator.network import CardNetwork

pytestmark = pytest.mark.integration


def opened(gateway: SimulatedGateway, tenant: str = "acme", amount: int = 2000) -> str:
    intent = IntentToOpen(tenant, "req-1", amount, "EUR", "Slotline booking request req-1")
    return gateway.open_intent(intent, f"open:{uuid4()}").payment_intent_id


def confirm(network: CardNetwork, intent: str) -> None:
    """What Stripe.js sends when the customer presses Pay."""
    network.confirm(intent, {"payment_method": "tok_visa"}, f"browser:{uuid4()}")


def deposit(token: str, payment_id: str = "pay-1", tenant: str = "acme") -> PaymentRequest:
    return PaymentRequest(tenant, "bk-1", payment_id, 2000, "EUR", token, "Slotline booking bk-1")


class TestAdoptingAConfirmedIntent:
    def test_a_confirmed_intent_is_the_authorisation_and_carries_the_payment(
        self, network: CardNetwork
    ) -> None:
        gateway = SimulatedGateway(network, "whsec_test")
        intent = opened(gateway)
        confirm(network, intent)
        fact = gateway.authorize(deposit(intent), f"auth:{uuid4()}")
        assert isinstance(fact, Authorized)
        assert (fact.reference, fact.amount) == (intent, 2000)
        assert network.retrieve(intent)["metadata"]["payment_id"] == "pay-1"

    def test_an_intent_not_confirmed_is_refused(self, network: CardNetwork) -> None:
        gateway = SimulatedGateway(network, "whsec_test")
        fact = gateway.authorize(deposit(opened(gateway)), f"auth:{uuid4()}")
        assert isinstance(fact, AuthorizationRefused)

    def test_an_intent_of_another_tenant_or_amount_or_payment_is_refused(
        self, network: CardNetwork
    ) -> None:
        gateway = SimulatedGateway(network, "whsec_test")
        smaller = opened(gateway, amount=500)
        confirm(network, smaller)
        theirs = opened(gateway, tenant="other")
        confirm(network, theirs)
        used = opened(gateway, amount=2000)
        confirm(network, used)
        assert isinstance(gateway.authorize(deposit(used), f"auth:{uuid4()}"), Authorized)
        for token, payment_id in ((smaller, "pay-2"), (theirs, "pay-3"), (used, "pay-4")):
            fact = gateway.authorize(deposit(token, payment_id), f"auth:{uuid4()}")
            assert isinstance(fact, AuthorizationRefused), token
