"""Making one ledger operation on the gateway: retried with its key, answered as a fact.

A call that keeps failing to get an answer ends as a fact too: an authorisation as
``network_timeout`` (retryable), anything else as stalled — still pending in the ledger,
so reconciliation makes it again later with the same key.
"""

from __future__ import annotations

from tenacity import Retrying, retry_if_exception_type, stop_after_attempt, wait_exponential

from slotline.payments.domain.facts import (
    AuthorizationRefused,
    FailureReason,
    GatewayFact,
    OperationStalled,
)
from slotline.payments.domain.operations import Operation, OperationKind
from slotline.payments.gateway.port import (
    Gateway,
    GatewayRejected,
    GatewayUnavailable,
    PaymentAddress,
    PaymentRequest,
)


def perform(
    gateway: Gateway,
    tenant_id: str,
    booking_id: str,
    operation: Operation,
    *,
    attempts: int = 3,
    backoff_seconds: float = 0.1,
) -> GatewayFact:
    """Make ``operation`` (blocking) and say what came of it."""
    retrying = Retrying(
        stop=stop_after_attempt(attempts),
        wait=wait_exponential(multiplier=backoff_seconds, max=2),
        retry=retry_if_exception_type(GatewayUnavailable),
        reraise=True,
    )
    try:
        for attempt in retrying:
            with attempt:
                return _call(gateway, tenant_id, booking_id, operation)
    except GatewayUnavailable as error:
        if operation.kind in {OperationKind.AUTHORIZE, OperationKind.CHARGE}:
            detail = f"no answer from the gateway after {attempts} attempts: {error}"
            return AuthorizationRefused(
                operation.payment_id, FailureReason.NETWORK_TIMEOUT, detail[:500], retryable=True
            )
        return OperationStalled(operation.key, f"unavailable: {error}")
    except GatewayRejected as error:
        return OperationStalled(operation.key, f"rejected: {error}")
    raise AssertionError("unreachable: the retry either returns or raises")


def _call(gateway: Gateway, tenant_id: str, booking_id: str, operation: Operation) -> GatewayFact:
    key = operation.key
    address = PaymentAddress(tenant_id, booking_id, operation.payment_id, operation.reference)
    match operation.kind:
        case OperationKind.AUTHORIZE | OperationKind.CHARGE:
            assert operation.token is not None
            request = PaymentRequest(
                tenant_id,
                booking_id,
                operation.payment_id,
                operation.amount,
                operation.currency,
                operation.token,
                description=f"Slotline booking {booking_id}",
            )
            if operation.kind is OperationKind.CHARGE:
                return gateway.charge(request, key)
            return gateway.authorize(request, key)
        case OperationKind.CAPTURE:
            return gateway.capture(address, operation.amount, key)
        case OperationKind.VOID:
            return gateway.void(address, key)
        case OperationKind.REFUND:
            assert operation.refund_id is not None
            return gateway.refund(address, operation.refund_id, operation.amount, key)
    raise AssertionError(f"unknown operation {operation.kind}")
