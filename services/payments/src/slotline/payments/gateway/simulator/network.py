"""The simulated card network's state and API: PaymentIntents, refunds, idempotency, webhooks.

Objects have Stripe's documented shapes. A request with an idempotency key seen before
gets the first answer again (errors included) without acting twice; the same key with
different parameters is refused, as Stripe does. Each change queues its webhook event
in the same transaction.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from psycopg import Cursor, sql
from psycopg.rows import DictRow, dict_row
from psycopg.types.json import Jsonb
from psycopg_pool import ConnectionPool

from slotline.payments.gateway.simulator.intents import card_answered, new_id, new_intent
from slotline.payments.gateway.simulator.tokens import CardBehaviour, behaviour_of

Object = dict[str, Any]


class NetworkError(Exception):
    """An API error answer: HTTP status and Stripe's ``error`` object."""

    def __init__(self, status: int, error: Object) -> None:
        super().__init__(error.get("message", ""))
        self.status = status
        self.error = error


class NetworkTimeout(Exception):
    """The network did not answer in time (nothing was done)."""


_TABLES = """
CREATE TABLE IF NOT EXISTS {s}.intents (
    id text PRIMARY KEY, body jsonb NOT NULL, payment_id text, booking_id text,
    created_at timestamptz NOT NULL DEFAULT now());
CREATE INDEX IF NOT EXISTS intents_payment ON {s}.intents (payment_id);
CREATE INDEX IF NOT EXISTS intents_booking ON {s}.intents (booking_id);
CREATE TABLE IF NOT EXISTS {s}.refunds (
    id text PRIMARY KEY, payment_intent text NOT NULL, body jsonb NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now());
CREATE INDEX IF NOT EXISTS refunds_intent ON {s}.refunds (payment_intent);
CREATE TABLE IF NOT EXISTS {s}.idempotency (
    key text PRIMARY KEY, fingerprint text NOT NULL, status int, body jsonb);
CREATE TABLE IF NOT EXISTS {s}.webhooks (
    id bigserial PRIMARY KEY, event jsonb NOT NULL, due_at timestamptz NOT NULL,
    delivered_at timestamptz, deliveries int NOT NULL DEFAULT 0, attempts int NOT NULL DEFAULT 0,
    last_error text);
"""


class CardNetwork:
    """The network's API, over its own schema."""

    def __init__(
        self,
        database_url: str,
        schema: str = "card_network",
        *,
        timeout_seconds: float = 10.0,
        webhook_delay_seconds: float = 0.3,
        latency_seconds: float = 0.0,
        pool_size: int = 8,
    ) -> None:
        self.schema = schema
        self.timeout_seconds = timeout_seconds
        self.webhook_delay_seconds = webhook_delay_seconds
        self.latency_seconds = latency_seconds
        self.pool: ConnectionPool[Any] = ConnectionPool(
            database_url,
            min_size=1,
            max_size=pool_size,
            kwargs={"row_factory": dict_row},
            open=True,
        )
        self._install()

    def close(self) -> None:
        self.pool.close()

    def _install(self) -> None:
        with self.pool.connection() as conn:
            conn.execute(
                sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(self.schema))
            )
            for statement in _TABLES.split(";"):
                if statement.strip():
                    conn.execute(sql.SQL(statement).format(s=sql.Identifier(self.schema)))

    @contextmanager
    def transaction(self) -> Iterator[Cursor[DictRow]]:
        with self.pool.connection() as conn, conn.transaction(), conn.cursor() as cursor:
            yield cursor

    def statement(self, text: str) -> sql.Composed:
        return sql.SQL(text).format(s=sql.Identifier(self.schema))

    # -- the API ----------------------------------------------------------------------------

    def create_payment_intent(self, params: Object, key: str | None) -> Object:
        """Create and confirm a PaymentIntent (``capture_method`` manual or automatic)."""
        self._travel()
        behaviour = behaviour_of(str(params.get("payment_method", "")))
        if behaviour is CardBehaviour.TIMEOUT:
            time.sleep(self.timeout_seconds)
            raise NetworkTimeout("the card network did not answer")
        return self._idempotent(key, ("create", params), lambda c: self._confirm(c, params))

    def open_payment_intent(self, params: Object, key: str | None) -> Object:
        """Create a PaymentIntent for the customer's browser to confirm (Stripe's Payment
        Element): no payment method yet, ``requires_payment_method``, a client secret."""
        self._travel()
        return self._idempotent(key, ("open", params), lambda c: self._open(c, params))

    def confirm(self, intent_id: str, params: Object, key: str | None) -> Object:
        """Confirm an opened PaymentIntent with a payment method, as Stripe.js does from
        the customer's browser (``POST /v1/payment_intents/{id}/confirm``)."""
        self._travel()
        return self._idempotent(
            key,
            ("confirm", intent_id, params),
            lambda c: self._confirm_opened(c, intent_id, params),
        )

    def update(self, intent_id: str, params: Object, key: str | None) -> Object:
        """Set an intent's metadata (``POST /v1/payment_intents/{id}``)."""
        self._travel()
        return self._idempotent(
            key, ("update", intent_id, params), lambda c: self._update(c, intent_id, params)
        )

    def capture(self, intent_id: str, params: Object, key: str | None) -> Object:
        self._travel()
        return self._idempotent(
            key, ("capture", intent_id, params), lambda c: self._capture(c, intent_id, params)
        )

    def cancel(self, intent_id: str, params: Object, key: str | None) -> Object:
        self._travel()
        return self._idempotent(
            key, ("cancel", intent_id, params), lambda c: self._cancel(c, intent_id)
        )

    def create_refund(self, params: Object, key: str | None) -> Object:
        self._travel()
        return self._idempotent(key, ("refund", params), lambda c: self._refund(c, params))

    def retrieve(self, intent_id: str) -> Object:
        with self.transaction() as cursor:
            return self._intent(cursor, intent_id)

    def intents_of_payment(self, payment_id: str) -> list[Object]:
        return self._select("SELECT body FROM {s}.intents WHERE payment_id = %s", payment_id)

    def intents_of_booking(self, booking_id: str) -> list[Object]:
        return self._select(
            "SELECT body FROM {s}.intents WHERE booking_id = %s ORDER BY created_at", booking_id
        )

    def refunds_of(self, intent_id: str) -> list[Object]:
        return self._select(
            "SELECT body FROM {s}.refunds WHERE payment_intent = %s ORDER BY created_at", intent_id
        )

    def _select(self, query: str, value: str) -> list[Object]:
        with self.transaction() as cursor:
            cursor.execute(self.statement(query), (value,))
            return [dict(row["body"]) for row in cursor.fetchall()]

    def _travel(self) -> None:
        if self.latency_seconds:
            time.sleep(self.latency_seconds)

    # -- idempotency ------------------------------------------------------------------------

    def _idempotent(
        self, key: str | None, request: object, act: Callable[[Cursor[DictRow]], Object]
    ) -> Object:
        """Act once per key; later calls with the key replay the first answer."""
        fingerprint = hashlib.sha256(json.dumps(request, sort_keys=True).encode()).hexdigest()
        with self.transaction() as cursor:
            if key is not None:
                cursor.execute(
                    self.statement(
                        "INSERT INTO {s}.idempotency (key, fingerprint) VALUES (%s, %s)"
                        " ON CONFLICT DO NOTHING RETURNING key"
                    ),
                    (key, fingerprint),
                )
                if cursor.fetchone() is None:  # seen before (a concurrent first call has committed)
                    return self._replay(cursor, key, fingerprint)
            try:
                answer, status = act(cursor), 200
            except NetworkError as error:
                answer, status = {"error": error.error}, error.status
            if key is not None:
                cursor.execute(
                    self.statement(
                        "UPDATE {s}.idempotency SET status = %s, body = %s WHERE key = %s"
                    ),
                    (status, Jsonb(answer), key),
                )
        if status != 200:
            raise NetworkError(status, answer["error"])
        return answer

    def _replay(self, cursor: Cursor[DictRow], key: str, fingerprint: str) -> Object:
        cursor.execute(self.statement("SELECT * FROM {s}.idempotency WHERE key = %s"), (key,))
        row = cursor.fetchone()
        assert row is not None
        if row["fingerprint"] != fingerprint:
            raise NetworkError(
                400,
                {
                    "type": "idempotency_error",
                    "message": "Keys for idempotent requests can only be used with the same"
                    " parameters they were first used with.",
                },
            )
        if row["status"] != 200:
            raise NetworkError(int(row["status"]), dict(row["body"]["error"]))
        return dict(row["body"])

    # -- state changes ----------------------------------------------------------------------

    def _confirm(self, cursor: Cursor[DictRow], params: Object) -> Object:
        token = str(params.get("payment_method", ""))
        intent = new_intent(params, self._amount(params), token)
        return self._answered(cursor, intent, behaviour_of(token))

    def _open(self, cursor: Cursor[DictRow], params: Object) -> Object:
        intent = new_intent(params, self._amount(params), None)
        self._save(cursor, intent, "payment_intent.created")
        return intent

    def _confirm_opened(self, cursor: Cursor[DictRow], intent_id: str, params: Object) -> Object:
        intent = self._intent(cursor, intent_id, lock=True)
        if intent["status"] != "requires_payment_method":
            raise NetworkError(400, _unexpected_state(intent, "confirm"))
        token = str(params.get("payment_method", ""))
        intent["payment_method"] = token
        return self._answered(cursor, intent, behaviour_of(token))

    def _answered(
        self, cursor: Cursor[DictRow], intent: Object, behaviour: CardBehaviour
    ) -> Object:
        event, declined = card_answered(intent, behaviour)
        self._save(cursor, intent, event)
        if declined is not None:
            raise NetworkError(402, {**declined, "payment_intent": intent})
        return intent

    @staticmethod
    def _amount(params: Object) -> int:
        amount = int(params["amount"])
        if amount < 1:
            raise NetworkError(400, _invalid("amount", "Amount must be at least 1."))
        return amount

    def _update(self, cursor: Cursor[DictRow], intent_id: str, params: Object) -> Object:
        intent = self._intent(cursor, intent_id, lock=True)
        intent["metadata"] = {**(intent.get("metadata") or {}), **(params.get("metadata") or {})}
        self._save(cursor, intent, "payment_intent.updated")
        return intent

    def _capture(self, cursor: Cursor[DictRow], intent_id: str, params: Object) -> Object:
        intent = self._intent(cursor, intent_id, lock=True)
        if intent["status"] != "requires_capture":
            raise NetworkError(400, _unexpected_state(intent, "capture"))
        amount = int(params.get("amount_to_capture") or intent["amount_capturable"])
        if not 0 < amount <= intent["amount_capturable"]:
            raise NetworkError(400, _invalid("amount_to_capture", "Amount is too large."))
        intent.update(status="succeeded", amount_received=amount, amount_capturable=0)
        self._save(cursor, intent, "payment_intent.succeeded")
        return intent

    def _cancel(self, cursor: Cursor[DictRow], intent_id: str) -> Object:
        intent = self._intent(cursor, intent_id, lock=True)
        if intent["status"] in {"succeeded", "canceled"}:
            raise NetworkError(400, _unexpected_state(intent, "cancel"))
        intent.update(status="canceled", amount_capturable=0, canceled_at=int(time.time()))
        self._save(cursor, intent, "payment_intent.canceled")
        return intent

    def _refund(self, cursor: Cursor[DictRow], params: Object) -> Object:
        intent = self._intent(cursor, str(params["payment_intent"]), lock=True)
        if intent["status"] != "succeeded":
            raise NetworkError(400, _unexpected_state(intent, "refund"))
        refunded = sum(int(r["amount"]) for r in self._refunds(cursor, intent["id"]))
        left = int(intent["amount_received"]) - refunded
        amount = int(params.get("amount") or left)
        if not 0 < amount <= left:
            message = f"Refund amount ({amount}) is greater than unrefunded amount ({left})."
            raise NetworkError(400, _invalid("amount", message, "amount_too_large"))
        refund: Object = {
            "id": new_id("re"),
            "object": "refund",
            "amount": amount,
            "charge": intent["latest_charge"],
            "created": int(time.time()),
            "currency": intent["currency"],
            "metadata": dict(params.get("metadata") or {}),
            "payment_intent": intent["id"],
            "reason": params.get("reason"),
            "status": "succeeded",
        }
        cursor.execute(
            self.statement(
                "INSERT INTO {s}.refunds (id, payment_intent, body) VALUES (%s, %s, %s)"
            ),
            (refund["id"], intent["id"], Jsonb(refund)),
        )
        self._queue(cursor, "refund.created", refund)
        return refund

    def _intent(self, cursor: Cursor[DictRow], intent_id: str, lock: bool = False) -> Object:
        query = "SELECT body FROM {s}.intents WHERE id = %s" + (" FOR UPDATE" if lock else "")
        cursor.execute(self.statement(query), (intent_id,))
        row = cursor.fetchone()
        if row is None:
            raise NetworkError(
                404,
                {
                    "type": "invalid_request_error",
                    "code": "resource_missing",
                    "message": f"No such payment_intent: '{intent_id}'",
                    "param": "intent",
                },
            )
        return dict(row["body"])

    def _refunds(self, cursor: Cursor[DictRow], intent_id: str) -> list[Object]:
        cursor.execute(
            self.statement("SELECT body FROM {s}.refunds WHERE payment_intent = %s"), (intent_id,)
        )
        return [dict(row["body"]) for row in cursor.fetchall()]

    def _save(self, cursor: Cursor[DictRow], intent: Object, event_type: str) -> None:
        metadata = intent.get("metadata") or {}
        cursor.execute(
            self.statement(
                "INSERT INTO {s}.intents (id, body, payment_id, booking_id) VALUES (%s, %s, %s, %s)"
                " ON CONFLICT (id) DO UPDATE SET body = EXCLUDED.body,"
                " payment_id = EXCLUDED.payment_id, booking_id = EXCLUDED.booking_id"
            ),
            (intent["id"], Jsonb(intent), metadata.get("payment_id"), metadata.get("booking_id")),
        )
        self._queue(cursor, event_type, intent)

    def _queue(self, cursor: Cursor[DictRow], event_type: str, obj: Object) -> None:
        event = {
            "id": new_id("evt"),
            "object": "event",
            "api_version": "2024-06-20",
            "created": int(time.time()),
            "livemode": False,
            "type": event_type,
            "data": {"object": obj},
        }
        cursor.execute(
            self.statement(
                "INSERT INTO {s}.webhooks (event, due_at)"
                " VALUES (%s, now() + make_interval(secs => %s))"
            ),
            (Jsonb(event), self.webhook_delay_seconds),
        )


def _invalid(param: str, message: str, code: str = "parameter_invalid_integer") -> Object:
    return {"type": "invalid_request_error", "code": code, "param": param, "message": message}


def _unexpected_state(intent: Object, action: str) -> Object:
    return {
        "type": "invalid_request_error",
        "code": "payment_intent_unexpected_state",
        "message": f"This PaymentIntent could not be {action}d because it has a status of"
        f" {intent['status']}.",
        "payment_intent": intent,
    }
