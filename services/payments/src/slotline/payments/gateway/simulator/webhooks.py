"""The simulated network's webhook sender: signed like Stripe, late, sometimes twice,
sometimes out of order — the way real webhooks arrive.

Queued events are sent when due; a non-2xx answer or no answer is retried with a
growing delay (the network's queue is durable, so a payments restart loses nothing).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import random
import time
from typing import Any

import httpx

from slotline.events.logs import get_logger
from slotline.events.periodic import PeriodicJob
from slotline.payments.gateway.simulator.network import CardNetwork

log = get_logger(__name__)

SIGNATURE_HEADER = "Stripe-Signature"


def sign(payload: bytes, secret: str, timestamp: int | None = None) -> str:
    """The ``Stripe-Signature`` header value for ``payload`` (scheme v1, HMAC-SHA256)."""
    at = int(time.time()) if timestamp is None else timestamp
    signed = f"{at}.".encode() + payload
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return f"t={at},v1={digest}"


class WebhookSender(PeriodicJob):
    """Delivers the network's queued events to one endpoint (a background task)."""

    name = "simulator-webhooks"

    def __init__(
        self,
        network: CardNetwork,
        *,
        url: str,
        secret: str,
        interval_seconds: float = 0.2,
        duplicate_rate: float = 0.0,
        reorder: bool = False,
        batch_size: int = 100,
    ) -> None:
        super().__init__(interval_seconds=interval_seconds)
        self.network = network
        self.url = url
        self.secret = secret
        self.duplicate_rate = duplicate_rate
        self.reorder = reorder
        self.batch_size = batch_size
        self.sent = 0
        self._random = random.Random()

    def sweep(self) -> int:
        return self.deliver_due()

    def deliver_due(self) -> int:
        """Send what is due; returns how many deliveries were made (blocking)."""
        q = self.network.statement
        with self.network.transaction() as cursor:
            cursor.execute(
                q(
                    "SELECT id, event FROM {s}.webhooks WHERE delivered_at IS NULL"
                    " AND due_at <= now() ORDER BY id LIMIT %s FOR UPDATE SKIP LOCKED"
                ),
                (self.batch_size,),
            )
            rows = cursor.fetchall()
            if not rows:  # the usual tick: no client made (its TLS context costs ~1 ms CPU)
                return 0
            if self.reorder:
                self._random.shuffle(rows)
            with httpx.Client(timeout=5.0) as client:
                sent = self._deliver(cursor, client, rows)
        self.sent += sent
        return sent

    def _deliver(self, cursor: Any, client: httpx.Client, rows: list[Any]) -> int:
        """Post each row (twice when a duplicate is simulated) and note how it went."""
        q = self.network.statement
        sent = 0
        for row in rows:
            copies = 2 if self._random.random() < self.duplicate_rate else 1
            error = None
            for _ in range(copies):
                error = self._post(client, row["event"])
                sent += error is None
            if error is None:
                cursor.execute(
                    q(
                        "UPDATE {s}.webhooks SET delivered_at = now(),"
                        " deliveries = deliveries + %s WHERE id = %s"
                    ),
                    (copies, row["id"]),
                )
            else:
                cursor.execute(
                    q(
                        "UPDATE {s}.webhooks SET attempts = attempts + 1, last_error = %s,"
                        " due_at = now() + make_interval(secs => least(60, 2 ^ attempts))"
                        " WHERE id = %s"
                    ),
                    (error[:300], row["id"]),
                )
        return sent

    def _post(self, client: httpx.Client, event: dict[str, Any]) -> str | None:
        payload = json.dumps(event).encode()
        headers = {"Content-Type": "application/json", SIGNATURE_HEADER: sign(payload, self.secret)}
        try:
            response = client.post(self.url, content=payload, headers=headers)
        except httpx.HTTPError as error:
            return repr(error)
        return None if response.is_success else f"HTTP {response.status_code}"
