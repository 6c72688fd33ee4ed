"""The Stripe adapter, through the official library, against recorded exchanges of Stripe's
documented API shapes served over real HTTP by a local server (no network here).

The server answers each scenario's requests in order and fails the test on a request the
recording does not expect (method, path, form fields, query) or one without an
idempotency key on a POST."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest

from slotline.payments.domain.facts import (
    AuthorizationRefused,
    Authorized,
    Captured,
    FailureReason,
    Refunded,
    Voided,
)
from slotline.payments.domain.operations import Operation, OperationKind
from slotline.payments.gateway.executor import perform
from slotline.payments.gateway.port import (
    GatewayUnavailable,
    PaymentAddress,
    PaymentRequest,
    WebhookRejected,
)
from slotline.payments.gateway.simulator.webhooks import sign
from slotline.payments.gateway.stripe_gateway import StripeGateway

pytestmark = pytest.mark.integration

RECORDED = json.loads((Path(__file__).parent / "recorded" / "stripe.json").read_text())
SECRET = "whsec_recorded"
INTENT = "pi_3MtwBwLkdIwHu7ix28a3tqPa"
REQUEST = PaymentRequest(
    "acme", "bk-1", "pay-1", 5000, "EUR", "pm_card_visa", "Slotline booking bk-1"
)
ADDRESS = PaymentAddress("acme", "bk-1", "pay-1", INTENT)


@dataclass
class Recording:
    """Plays one scenario's exchanges and keeps what the client sent."""

    exchanges: list[dict[str, Any]] = field(default_factory=list)
    received: list[dict[str, Any]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def answer(
        self, method: str, target: str, headers: dict[str, str], body: str
    ) -> tuple[int, Any]:
        url = urlsplit(target)
        form, query = dict(parse_qsl(body)), dict(parse_qsl(url.query))
        self.received.append({"method": method, "path": url.path, "form": form, "headers": headers})
        if not self.exchanges:
            self.problems.append(f"unexpected {method} {url.path}")
            return 500, {"error": {"type": "api_error", "message": "not recorded"}}
        expected, response = self.exchanges[0]["request"], self.exchanges[0]["response"]
        self.exchanges.pop(0)
        if (expected["method"], expected["path"]) != (method, url.path):
            self.problems.append(
                f"expected {expected['method']} {expected['path']}, got {method} {url.path}"
            )
        for name, value in {**expected.get("form", {}), **expected.get("query", {})}.items():
            if {**form, **query}.get(name) != value:
                self.problems.append(
                    f"{name}={({**form, **query}).get(name)!r}, recorded {value!r}"
                )
        if method == "POST" and not headers.get("idempotency-key"):
            self.problems.append(f"POST {url.path} without an Idempotency-Key")
        if not headers.get("authorization", "").startswith("Bearer sk_test_"):
            self.problems.append("no API key sent")
        return int(response["status"]), response["body"]


class StripeLike(ThreadingHTTPServer):
    recording: Recording


class Handler(BaseHTTPRequestHandler):
    server: StripeLike

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode()
        headers = {k.lower(): v for k, v in self.headers.items()}
        status, payload = self.server.recording.answer(self.command, self.path, headers, body)
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Request-Id", "req_recorded")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = _serve

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet."""


@pytest.fixture(scope="module")
def server() -> Iterator[StripeLike]:
    httpd = StripeLike(("127.0.0.1", 0), Handler)
    httpd.recording = Recording()
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()


@pytest.fixture
def play(server: StripeLike) -> Callable[[str], Recording]:
    def start(scenario: str) -> Recording:
        server.recording = Recording(exchanges=[dict(e) for e in RECORDED[scenario]])
        return server.recording

    return start


@pytest.fixture
def stripe_gateway(server: StripeLike) -> StripeGateway:
    host, port = server.server_address[:2]
    return StripeGateway(
        "sk_test_recorded",
        webhook_secret=SECRET,
        api_base=f"http://{host!s}:{port}",
        timeout_seconds=5,
    )


def finished(recording: Recording) -> None:
    assert recording.problems == []
    assert recording.exchanges == [], "recorded requests the adapter never made"


class TestAuthorising:
    def test_a_deposit_is_a_confirmed_manual_capture_payment_intent_with_our_key(
        self, play: Callable[[str], Recording], stripe_gateway: StripeGateway
    ) -> None:
        recording = play("authorize")
        fact = stripe_gateway.authorize(REQUEST, "slotline-ledger-3-authorize")
        assert fact == Authorized("pay-1", INTENT, 5000, "stripe")
        assert recording.received[0]["headers"]["idempotency-key"] == "slotline-ledger-3-authorize"
        finished(recording)

    def test_a_card_token_is_sent_as_payment_method_data(
        self, play: Callable[[str], Recording], stripe_gateway: StripeGateway
    ) -> None:
        recording = play("card_token")
        request = PaymentRequest("acme", "bk-1", "pay-1", 5000, "EUR", "tok_visa")
        assert isinstance(stripe_gateway.authorize(request, "k"), Authorized)
        finished(recording)

    def test_a_card_error_is_a_refusal_with_its_decline_code(
        self, play: Callable[[str], Recording], stripe_gateway: StripeGateway
    ) -> None:
        recording = play("insufficient_funds")
        fact = stripe_gateway.authorize(REQUEST, "k")
        assert isinstance(fact, AuthorizationRefused)
        assert (fact.reason, fact.detail) == (
            FailureReason.INSUFFICIENT_FUNDS,
            "Your card has insufficient funds.",
        )
        finished(recording)

    def test_3d_secure_is_authentication_required(
        self, play: Callable[[str], Recording], stripe_gateway: StripeGateway
    ) -> None:
        recording = play("authentication_required")
        fact = stripe_gateway.authorize(REQUEST, "k")
        assert isinstance(fact, AuthorizationRefused)
        assert fact.reason is FailureReason.AUTHENTICATION_REQUIRED
        finished(recording)


class TestAfterAuthorising:
    def test_a_partial_capture_takes_only_that_amount(
        self, play: Callable[[str], Recording], stripe_gateway: StripeGateway
    ) -> None:
        recording = play("partial_capture")
        assert stripe_gateway.capture(ADDRESS, 2000, "k-capture") == Captured(
            "pay-1", INTENT, 2000, "stripe"
        )
        finished(recording)

    def test_a_void_cancels_the_payment_intent(
        self, play: Callable[[str], Recording], stripe_gateway: StripeGateway
    ) -> None:
        recording = play("void")
        assert stripe_gateway.void(ADDRESS, "k-void") == Voided("pay-1")
        finished(recording)

    def test_a_partial_refund_carries_our_refund_id(
        self, play: Callable[[str], Recording], stripe_gateway: StripeGateway
    ) -> None:
        recording = play("partial_refund")
        fact = stripe_gateway.refund(ADDRESS, "refund-1", 3000, "k-refund")
        assert fact == Refunded("pay-1", "refund-1", 3000, "re_3MtwBwLkdIwHu7ix0OJnmeIF")
        finished(recording)

    def test_an_unavailable_api_is_retried_with_the_same_key(
        self, play: Callable[[str], Recording], stripe_gateway: StripeGateway
    ) -> None:
        recording = play("unavailable_then_captured")
        with pytest.raises(GatewayUnavailable):
            stripe_gateway.capture(ADDRESS, 5000, "k-same")
        recording.exchanges.insert(0, RECORDED["unavailable_then_captured"][0])
        operation = Operation(
            OperationKind.CAPTURE, "k-same", "pay-1", 5000, "EUR", reference=INTENT
        )
        fact = perform(stripe_gateway, "acme", "bk-1", operation, attempts=2, backoff_seconds=0.01)
        assert fact == Captured("pay-1", INTENT, 5000, "stripe")
        assert {r["headers"]["idempotency-key"] for r in recording.received} == {"k-same"}
        assert len(recording.received) == 3
        finished(recording)


class TestReconcilingAndWebhooks:
    def test_the_state_of_a_payment_is_its_intent_and_its_refunds(
        self, play: Callable[[str], Recording], stripe_gateway: StripeGateway
    ) -> None:
        recording = play("state")
        facts = stripe_gateway.state_of(ADDRESS)
        assert facts == [
            Captured("pay-1", INTENT, 5000, "stripe"),
            Refunded("pay-1", "refund-1", 3000, "re_3MtwBwLkdIwHu7ix0OJnmeIF"),
        ]
        finished(recording)

    def test_a_payment_without_a_reference_is_found_by_its_metadata(
        self, play: Callable[[str], Recording], stripe_gateway: StripeGateway
    ) -> None:
        recording = play("search")
        facts = stripe_gateway.state_of(PaymentAddress("acme", "bk-1", "pay-1", None))
        assert facts == [Authorized("pay-1", INTENT, 5000, "stripe")]
        finished(recording)

    def test_a_signed_webhook_is_read_and_a_forged_one_refused(
        self, stripe_gateway: StripeGateway
    ) -> None:
        payload = json.dumps(RECORDED["webhook_event"]).encode()
        observations = stripe_gateway.read_webhook(payload, sign(payload, SECRET))
        assert [(o.tenant_id, o.booking_id, o.fact) for o in observations] == [
            ("acme", "bk-1", Captured("pay-1", INTENT, 5000, "stripe"))
        ]
        with pytest.raises(WebhookRejected):
            stripe_gateway.read_webhook(payload, sign(payload, "whsec_someone_else"))
        with pytest.raises(WebhookRejected):
            stripe_gateway.read_webhook(payload, sign(payload, SECRET, timestamp=1_000_000_000))
