"""The gateway port on Stripe, with the official ``stripe`` library.

Deposits are PaymentIntents confirmed with ``capture_method=manual`` and captured
(possibly in part) later; fees beyond what is held are confirmed with automatic
capture; voids cancel the PaymentIntent; refunds may be partial. Every call carries
the ledger's idempotency key; webhooks are verified with the endpoint secret.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, TypeVar

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

WEBHOOK_TOLERANCE_SECONDS = 300
T = TypeVar("T")


def _plain(obj: Any) -> dict[str, Any]:
    """A Stripe object as plain JSON-like data (what the shape readers take)."""
    data: dict[str, Any] = obj.to_dict() if hasattr(obj, "to_dict") else dict(obj)
    return data


class StripeGateway:
    """Stripe through ``stripe.StripeClient`` (API base configurable, for recorded tests)."""

    name = "stripe"

    def __init__(
        self,
        api_key: str,
        *,
        webhook_secret: str,
        api_base: str = "https://api.stripe.com",
        timeout_seconds: float = 10.0,
    ) -> None:
        self.webhook_secret = webhook_secret
        self.client = stripe.StripeClient(
            api_key,
            base_addresses={"api": api_base},
            http_client=stripe.RequestsClient(timeout=timeout_seconds),
            max_network_retries=0,  # retries are ours, with the same idempotency key
        )

    def authorize(self, request: PaymentRequest, key: str) -> Authorized | AuthorizationRefused:
        fact = self._confirm(request, key, capture_method="manual")
        assert not isinstance(fact, Captured)
        return fact

    def charge(self, request: PaymentRequest, key: str) -> Captured | AuthorizationRefused:
        fact = self._confirm(request, key, capture_method="automatic")
        assert not isinstance(fact, Authorized)
        return fact

    def _confirm(
        self, request: PaymentRequest, key: str, *, capture_method: str
    ) -> Authorized | Captured | AuthorizationRefused:
        params: dict[str, Any] = {
            "amount": request.amount,
            "currency": request.currency.lower(),
            "confirm": True,
            "capture_method": capture_method,
            "payment_method_types": ["card"],
            "description": request.description,
            "metadata": request.metadata(),
        }
        if request.token.startswith("tok_"):  # a card token: wrap it as a payment method
            params["payment_method_data"] = {"type": "card", "card": {"token": request.token}}
        else:
            params["payment_method"] = request.token
        try:
            intent = self._call(
                lambda: self.client.v1.payment_intents.create(
                    params=params,  # type: ignore[arg-type]
                    options={"idempotency_key": key},
                )
            )
        except stripe.CardError as error:
            body = (
                (error.json_body or {}).get("error", {})
                if isinstance(error.json_body, dict)
                else {}
            )
            return AuthorizationRefused(
                request.payment_id, failure_reason(body), str(body.get("message") or error)
            )
        for fact in intent_facts(_plain(intent), self.name):
            if isinstance(fact, Authorized | Captured | AuthorizationRefused):
                return fact
        return AuthorizationRefused(
            request.payment_id, FailureReason.PROCESSING_ERROR, f"status {intent.status}"
        )

    def capture(self, payment: PaymentAddress, amount: int, key: str) -> Captured:
        reference = self._reference(payment)
        intent = self._call(
            lambda: self.client.v1.payment_intents.capture(
                reference,
                params={"amount_to_capture": amount},
                options={"idempotency_key": key},
            )
        )
        return Captured(payment.payment_id, intent.id, int(intent.amount_received), self.name)

    def void(self, payment: PaymentAddress, key: str) -> Voided:
        reference = self._reference(payment)
        self._call(
            lambda: self.client.v1.payment_intents.cancel(
                reference, options={"idempotency_key": key}
            )
        )
        return Voided(payment.payment_id)

    def refund(self, payment: PaymentAddress, refund_id: str, amount: int, key: str) -> Refunded:
        params: dict[str, Any] = {
            "payment_intent": self._reference(payment),
            "amount": amount,
            "metadata": {
                "tenant_id": payment.tenant_id,
                "booking_id": payment.booking_id,
                "payment_id": payment.payment_id,
                "refund_id": refund_id,
            },
        }
        refund = self._call(
            lambda: self.client.v1.refunds.create(
                params=params,  # type: ignore[arg-type]
                options={"idempotency_key": key},
            )
        )
        fact = refund_fact(_plain(refund))
        if fact is None:
            raise GatewayRejected(f"refund {refund.id} is {refund.status}")
        return fact

    def state_of(self, payment: PaymentAddress) -> list[GatewayFact]:
        if payment.reference:
            intents = [
                self._call(lambda: self.client.v1.payment_intents.retrieve(payment.reference or ""))
            ]
        else:
            query = f"metadata['payment_id']:'{payment.payment_id}'"
            found = self._call(
                lambda: self.client.v1.payment_intents.search(params={"query": query})
            )
            intents = list(found.data)
        facts: list[GatewayFact] = []
        for intent in intents:
            facts += intent_facts(_plain(intent), self.name)
            refunds = self._call(
                lambda: self.client.v1.refunds.list(params={"payment_intent": intent.id})  # noqa: B023
            )
            facts += refund_facts(_plain(r) for r in refunds.data)
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
            raise GatewayRejected(f"payment {payment.payment_id} has no PaymentIntent")
        return payment.reference

    @staticmethod
    def _call(call: Callable[[], T]) -> T:
        """One API call; no answer or a 5xx/429 is 'unavailable' (retry with the same key)."""
        try:
            return call()
        except (stripe.APIConnectionError, stripe.RateLimitError) as error:
            raise GatewayUnavailable(str(error)) from error
        except stripe.CardError:
            raise
        except stripe.APIError as error:
            raise GatewayUnavailable(str(error)) from error
        except stripe.StripeError as error:
            if error.http_status is not None and error.http_status >= 500:
                raise GatewayUnavailable(str(error)) from error
            raise GatewayRejected(str(error)) from error
