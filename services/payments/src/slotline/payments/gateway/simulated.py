"""The gateway port on the simulated card network (the default for ``make run`` and tests)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from slotline.payments.domain.facts import AuthorizationRefused
from slotline.payments.gateway.port import (
    GatewayRejected,
    GatewayUnavailable,
    PaymentAddress,
    PaymentRequest,
)
from slotline.payments.gateway.simulator.network import CardNetwork, NetworkError, NetworkTimeout
from slotline.payments.gateway.stripe_api import Json, StripeApiGateway, failure_reason


class SimulatedGateway(StripeApiGateway):
    """Talks to the simulated network as a client talks to Stripe."""

    name = "simulated"

    def __init__(self, network: CardNetwork, webhook_secret: str) -> None:
        self.network = network
        self.webhook_secret = webhook_secret

    def _create_intent(
        self, request: PaymentRequest, params: dict[str, Any], key: str
    ) -> Json | AuthorizationRefused:
        params = {**params, "payment_method": request.token}
        try:
            return self._call(self.network.create_payment_intent, params, key)
        except NetworkError as error:
            if error.status == 402:
                reason = failure_reason(error.error)
                return AuthorizationRefused(
                    request.payment_id, reason, error.error.get("message", "")
                )
            raise GatewayRejected(error.error.get("message", "")) from error

    def _retrieve_intent(self, reference: str) -> Json:
        return self._rejecting(self.network.retrieve, reference)

    def _tag_intent(self, reference: str, metadata: dict[str, str], key: str) -> Json:
        return self._rejecting(self.network.update, reference, {"metadata": metadata}, key)

    def _open_intent(self, params: dict[str, Any], key: str) -> Json:
        return self._rejecting(self.network.open_payment_intent, params, key)

    def _capture_intent(self, reference: str, amount: int, key: str) -> Json:
        return self._rejecting(self.network.capture, reference, {"amount_to_capture": amount}, key)

    def _cancel_intent(self, reference: str, key: str) -> Json:
        return self._rejecting(self.network.cancel, reference, {}, key)

    def _create_refund(self, params: dict[str, Any], key: str) -> Json:
        return self._rejecting(self.network.create_refund, params, key)

    def _intents_of(self, payment: PaymentAddress) -> list[Json]:
        try:
            if payment.reference:
                return [self.network.retrieve(payment.reference)]
            return list(self.network.intents_of_payment(payment.payment_id))
        except NetworkError as error:
            if error.status == 404:
                return []
            raise GatewayRejected(error.error.get("message", "")) from error

    def _refunds_of(self, intent_id: str) -> list[Json]:
        return list(self.network.refunds_of(intent_id))

    @classmethod
    def _rejecting(cls, call: Callable[..., Any], *args: Any) -> Json:
        try:
            return cls._call(call, *args)
        except NetworkError as error:
            raise GatewayRejected(error.error.get("message", "")) from error

    @staticmethod
    def _call(call: Callable[..., Any], *args: Any) -> dict[str, Any]:
        try:
            result: dict[str, Any] = call(*args)
        except NetworkTimeout as error:
            raise GatewayUnavailable(str(error)) from error
        return result
