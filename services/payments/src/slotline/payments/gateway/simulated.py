"""The gateway port on the simulated card network (the default for ``make run`` and tests)."""

from __future__ import annotations

import json
from typing import Any

import stripe

from slotline.payments.domain.facts import (
    AuthorizationRefused,
    Authorized,
    Captured,
    FailureReason,
    GatewayFact,
    Observation,
    Refunded,
    Voided,
)
from slotline.payments.gateway.port import (
    GatewayRejected,
    GatewayUnavailable,
    PaymentAddress,
    PaymentRequest,
    WebhookRejected,
)
from slotline.payments.gateway.shapes import (
    event_observations,
    failure_reason,
    intent_facts,
    refund_fact,
    refund_facts,
)
from slotline.payments.gateway.simulator.network import CardNetwork, NetworkError, NetworkTimeout

WEBHOOK_TOLERANCE_SECONDS = 300


class SimulatedGateway:
    """Talks to the simulated network as a client talks to Stripe."""

    name = "simulated"

    def __init__(self, network: CardNetwork, webhook_secret: str) -> None:
        self.network = network
        self.webhook_secret = webhook_secret

    def authorize(self, request: PaymentRequest, key: str) -> Authorized | AuthorizationRefused:
        fact = self._confirm(request, key, manual=True)
        assert not isinstance(fact, Captured)
        return fact

    def charge(self, request: PaymentRequest, key: str) -> Captured | AuthorizationRefused:
        fact = self._confirm(request, key, manual=False)
        assert not isinstance(fact, Authorized)
        return fact

    def _confirm(
        self, request: PaymentRequest, key: str, *, manual: bool
    ) -> Authorized | Captured | AuthorizationRefused:
        params = {
            "amount": request.amount,
            "currency": request.currency.lower(),
            "payment_method": request.token,
            "confirm": True,
            "capture_method": "manual" if manual else "automatic",
            "description": request.description,
            "metadata": request.metadata(),
        }
        try:
            intent = self._call(self.network.create_payment_intent, params, key)
        except NetworkError as error:
            if error.status == 402:
                reason = failure_reason(error.error)
                return AuthorizationRefused(
                    request.payment_id, reason, error.error.get("message", "")
                )
            raise GatewayRejected(error.error.get("message", "")) from error
        for fact in intent_facts(intent, self.name):
            if isinstance(fact, Authorized | Captured | AuthorizationRefused):
                return fact
        return AuthorizationRefused(
            request.payment_id, FailureReason.PROCESSING_ERROR, f"status {intent['status']}"
        )

    def capture(self, payment: PaymentAddress, amount: int, key: str) -> Captured:
        intent = self._on_intent(self.network.capture, payment, {"amount_to_capture": amount}, key)
        return Captured(payment.payment_id, intent["id"], int(intent["amount_received"]), self.name)

    def void(self, payment: PaymentAddress, key: str) -> Voided:
        self._on_intent(self.network.cancel, payment, {}, key)
        return Voided(payment.payment_id)

    def refund(self, payment: PaymentAddress, refund_id: str, amount: int, key: str) -> Refunded:
        params = {
            "payment_intent": self._reference(payment),
            "amount": amount,
            "metadata": {
                "tenant_id": payment.tenant_id,
                "booking_id": payment.booking_id,
                "payment_id": payment.payment_id,
                "refund_id": refund_id,
            },
        }
        try:
            refund = self._call(self.network.create_refund, params, key)
        except NetworkError as error:
            raise GatewayRejected(error.error.get("message", "")) from error
        fact = refund_fact(refund)
        assert fact is not None
        return fact

    def state_of(self, payment: PaymentAddress) -> list[GatewayFact]:
        try:
            if payment.reference:
                intents = [self.network.retrieve(payment.reference)]
            else:
                intents = self.network.intents_of_payment(payment.payment_id)
        except NetworkError as error:
            if error.status == 404:
                return []
            raise GatewayRejected(error.error.get("message", "")) from error
        facts: list[GatewayFact] = []
        for intent in intents:
            facts += intent_facts(intent, self.name)
            facts += refund_facts(self.network.refunds_of(intent["id"]))
        return facts

    def read_webhook(self, payload: bytes, signature: str | None) -> list[Observation]:
        try:
            stripe.WebhookSignature.verify_header(
                payload.decode(), signature or "", self.webhook_secret, WEBHOOK_TOLERANCE_SECONDS
            )
            event = json.loads(payload)
        except (stripe.SignatureVerificationError, ValueError) as error:
            raise WebhookRejected(str(error)) from error
        return event_observations(event, self.name)

    def _reference(self, payment: PaymentAddress) -> str:
        if not payment.reference:
            raise GatewayRejected(f"payment {payment.payment_id} has no gateway reference")
        return payment.reference

    def _on_intent(
        self, call: Any, payment: PaymentAddress, params: dict[str, Any], key: str
    ) -> dict[str, Any]:
        try:
            result: dict[str, Any] = self._call(call, self._reference(payment), params, key)
        except NetworkError as error:
            raise GatewayRejected(error.error.get("message", "")) from error
        return result

    @staticmethod
    def _call(call: Any, *args: Any) -> dict[str, Any]:
        try:
            result: dict[str, Any] = call(*args)
        except NetworkTimeout as error:
            raise GatewayUnavailable(str(error)) from error
        return result
