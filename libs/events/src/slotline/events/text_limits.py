"""The SMS-pumping guard: how many texts one number, and one tenant, may be sent.

Anyone can make Slotline text a number: call a clinic and hang up (a text-back), or book
on the public page with someone's number (a confirmation, then reminders). A fraudster
does it to premium numbers they are paid for (SMS pumping), many times and from many
addresses, so a limit per client address does not bound it. These two limits do:
texts to one number of one tenant, and texts of one tenant (``limits`` syntax, e.g.
``10/day``), counted in the service's database by every replica together
(``slotline.events.rate_limits``), a number under a keyed digest. A refusal is logged
without the number (its last three digits only) and counted on the service's metrics.
"""

from __future__ import annotations

from limits.storage import Storage
from prometheus_client import CollectorRegistry, Counter

from slotline.events.logs import get_logger
from slotline.events.rate_limits import RateLimit
from slotline.events.wire_sealing import pseudonym

log = get_logger(__name__)

PER_NUMBER = "sms_limit_per_number"
PER_TENANT = "sms_limit_per_tenant"


class TextLimits:
    """The two limits of one kind of text (``name``: ``text-backs``, ``texts``…)."""

    def __init__(self, per_number: str, per_tenant: str, *, name: str) -> None:
        RateLimit.validate(per_number)
        RateLimit.validate(per_tenant)
        self.per_number = per_number
        self.per_tenant = per_tenant
        self.name = name
        self._refused: Counter | None = None

    def attach(self, registry: CollectorRegistry) -> None:
        """Count refusals on the service's metrics registry."""
        self._refused = Counter(
            f"slotline_{self.name.replace('-', '_')}_refused",
            f"{self.name} withheld by the SMS-pumping guard",
            ["reason"],
            registry=registry,
        )

    def refusal(self, storage: Storage, tenant_id: str, phone: str) -> str | None:
        """Count one text to ``phone`` in ``storage``; why it may not be sent (
        :data:`PER_NUMBER` or :data:`PER_TENANT`), or None."""
        number = RateLimit(storage, self.per_number, f"{self.name}-to")
        tenant = RateLimit(storage, self.per_tenant, f"{self.name}-of")
        reason = None
        # counted by a keyed digest of the number: the counters' table keeps no number
        if number.hit(tenant_id, pseudonym(tenant_id, phone)) is not None:
            reason = PER_NUMBER
        elif tenant.hit(tenant_id) is not None:
            reason = PER_TENANT
        if reason is not None:
            log.warning(
                f"{self.name} refused: SMS-pumping guard",
                tenant_id=tenant_id,
                reason=reason,
                limit=self.limit_of(reason),
                to_phone_suffix=phone[-3:],
            )
            if self._refused is not None:
                self._refused.labels(reason).inc()
        return reason

    def limit_of(self, reason: str) -> str:
        return self.per_number if reason == PER_NUMBER else self.per_tenant
