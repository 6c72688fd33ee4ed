"""The SMS-pumping guard: how many text-backs one number and one tenant may be sent.

Anyone can make call-intake send a text: call a clinic's line from a number and hang up.
A fraudster does it from premium numbers they are paid for (SMS pumping), many times.
The per-caller window (``domain/textback.py``) already stops a second text to one
number in 20 minutes; these limits bound the rest, counted in the service's database by
every replica together (``slotline.events.rate_limits``) and in the same transaction as
the decision, so a retried unit of work counts once: at most ``per_number`` text-backs
to one number of one tenant, and ``per_tenant`` for the whole tenant (limits syntax,
e.g. ``5/day``, ``200/hour``). A refused text-back is withheld with its reason (on
``calls.events.v1``), logged and counted (``slotline_text_backs_refused_total``).
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter

from slotline.events.logs import get_logger
from slotline.events.rate_limits import PostgresStorage, RateLimit
from slotline.events.unit_of_work import UnitOfWork

log = get_logger(__name__)

PER_NUMBER = "sms_limit_per_number"
PER_TENANT = "sms_limit_per_tenant"


class TextBackLimits:
    def __init__(self, per_number: str, per_tenant: str) -> None:
        self.per_number = per_number
        self.per_tenant = per_tenant
        self._prepared = False
        self._refused: Counter | None = None

    def prepare(self, storage: PostgresStorage) -> None:
        """Make the counters' table (committed), before any unit of work counts in it."""
        storage.prepare()
        self._prepared = True

    def attach(self, registry: CollectorRegistry) -> None:
        """Count refusals on the service's metrics registry."""
        self._refused = Counter(
            "slotline_text_backs_refused",
            "Text-backs withheld by the SMS-pumping guard",
            ["reason"],
            registry=registry,
        )

    def refusal(self, work: UnitOfWork, schema: str, tenant_id: str, phone: str) -> str | None:
        """Count one text-back to ``phone`` in ``work``; the reason it may not be sent, or
        None."""
        if not self._prepared:
            raise RuntimeError("text-back limits need their table: call prepare() first")
        storage = PostgresStorage.on_cursor(work.cursor, schema, prepared=True)
        number = RateLimit(storage, self.per_number, "text-backs-to")
        tenant = RateLimit(storage, self.per_tenant, "text-backs-of")
        reason = None
        if number.hit(tenant_id, phone) is not None:
            reason = PER_NUMBER
        elif tenant.hit(tenant_id) is not None:
            reason = PER_TENANT
        if reason is not None:
            limit = self.per_number if reason == PER_NUMBER else self.per_tenant
            log.warning(
                "text-back refused: SMS-pumping guard",
                tenant_id=tenant_id,
                reason=reason,
                limit=limit,
                to_phone_suffix=phone[-3:],
            )
            if self._refused is not None:
                self._refused.labels(reason).inc()
        return reason
