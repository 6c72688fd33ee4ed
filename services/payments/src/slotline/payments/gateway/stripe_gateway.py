"""The gateway port on Stripe, with the official ``stripe`` library.

Deposits are PaymentIntents confirmed with ``capture_method=manual`` and captured
(possibly in part) later; fees beyond what is held are confirmed with automatic
capture; voids cancel the PaymentIntent; refunds may be partial. Every call carries
the ledger's idempotency key; webhooks are verified with the endpoint secret.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import stripe

from slotline.payments.domain.facts import AuthorizationRefused
from slotline.payments.gateway.port import (
    GatewayRejected,
    GatewayUnavailable,
    PaymentAddress,
    PaymentRequest,
)
from slotline.payments.gateway.stripe_api import Json, StripeApiGateway, failure_reason

T = TypeVar("T")


def _plain(obj: Any) -> dict[str, Any]:
    """A Stripe object as plain JSON-like data (what the shape readers take)."""
    data: dict[str, Any] = obj.to_dict() if hasattr(obj, "to_dict") else dict(obj)
    return data


class StripeGateway(StripeApiGateway):
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

    def _create_intent(
        self, request: PaymentRequest, params: dict[str, Any], key: str
    ) -> Json | AuthorizationRefused:
        params = {**params, "payment_method_types": ["card"]}
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
        return _plain(intent)

    def _retrieve_intent(self, reference: str) -> Json:
        return _plain(self._call(lambda: self.client.v1.payment_intents.retrieve(reference)))

    def _tag_intent(self, reference: str, metadata: dict[str, str], key: str) -> Json:
        intent = self._call(
            lambda: self.client.v1.payment_intents.update(
                reference, params={"metadata": metadata}, options={"idempotency_key": key}
            )
        )
        return _plain(intent)

    def _open_intent(self, params: dict[str, Any], key: str) -> Json:
        params = {**params, "automatic_payment_methods": {"enabled": True}}
        intent = self._call(
            lambda: self.client.v1.payment_intents.create(
                params=params,  # type: ignore[arg-type]
                options={"idempotency_key": key},
            )
        )
        return _plain(intent)

    def _capture_intent(self, reference: str, amount: int, key: str) -> Json:
        intent = self._call(
            lambda: self.client.v1.payment_intents.capture(
                reference,
                params={"amount_to_capture": amount},
                options={"idempotency_key": key},
            )
        )
        return _plain(intent)

    def _cancel_intent(self, reference: str, key: str) -> Json:
        intent = self._call(
            lambda: self.client.v1.payment_intents.cancel(
                reference, options={"idempotency_key": key}
            )
        )
        return _plain(intent)

    def _create_refund(self, params: dict[str, Any], key: str) -> Json:
        refund = self._call(
            lambda: self.client.v1.refunds.create(
                params=params,  # type: ignore[arg-type]
                options={"idempotency_key": key},
            )
        )
        return _plain(refund)

    def _intents_of(self, payment: PaymentAddress) -> list[Json]:
        if payment.reference:
            reference = payment.reference
            return [_plain(self._call(lambda: self.client.v1.payment_intents.retrieve(reference)))]
        query = f"metadata['payment_id']:'{payment.payment_id}'"
        found = self._call(lambda: self.client.v1.payment_intents.search(params={"query": query}))
        return [_plain(intent) for intent in found.data]

    def _refunds_of(self, intent_id: str) -> list[Json]:
        refunds = self._call(
            lambda: self.client.v1.refunds.list(params={"payment_intent": intent_id})
        )
        return [_plain(refund) for refund in refunds.data]

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
