"""Consent: single-word replies that opt a number out or back in, and its history.

Carrier rules make every opt-out keyword stop *all* messages from the sender (so
STOP and STOPALL both revoke transactional and marketing consent). Opting back in
restores transactional messages only: marketing consent is never assumed, it comes
from the customer's booking consents alone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

CONSENT_NAMESPACE = uuid5(NAMESPACE_URL, "https://slotline.dev/notifier/consent")

OPT_OUT_WORDS = frozenset(
    {"STOP", "STOPALL", "UNSUBSCRIBE", "END", "QUIT", "CANCEL", "REVOKE", "OPTOUT"}
)
OPT_IN_WORDS = frozenset({"START", "YES", "UNSTOP"})
HELP_WORDS = frozenset({"HELP", "INFO"})


class Scope(StrEnum):
    TRANSACTIONAL = "transactional"
    MARKETING = "marketing"
    ALL = "all"


class Intent(StrEnum):
    OPT_OUT = "opt_out"
    OPT_IN = "opt_in"
    HELP = "help"


@dataclass(frozen=True)
class Keyword:
    """A recognised reply: the word as written (upper-cased) and what it asks for."""

    word: str
    intent: Intent


_PUNCTUATION = re.compile(r"[^\w]+", re.UNICODE)


def read_keyword(text: str | None) -> Keyword | None:
    """The keyword a reply consists of, if it is a single known word ("Stop!" counts)."""
    if not text:
        return None
    word = _PUNCTUATION.sub("", text.strip()).upper()
    if not word or len(text.split()) != 1:
        return None
    if word in OPT_OUT_WORDS:
        return Keyword(word, Intent.OPT_OUT)
    if word in OPT_IN_WORDS:
        return Keyword(word, Intent.OPT_IN)
    if word in HELP_WORDS:
        return Keyword(word, Intent.HELP)
    return None


class Consent(Aggregate):
    """What one phone number (or address) of one tenant has opted out of."""

    @staticmethod
    def create_id(tenant_id: str, address: str) -> UUID:
        return uuid5(CONSENT_NAMESPACE, f"{tenant_id}:{address}")

    class Registered(Aggregate.Created):
        tenant_id: str
        address: str

    @event(Registered)
    def __init__(self, tenant_id: str, address: str) -> None:
        self.tenant_id = tenant_id
        self.address = address
        self.opted_out: list[str] = []

    def allows(self, scope: Scope) -> bool:
        """Whether a message of ``scope`` (transactional or marketing) may be sent."""
        return scope.value not in self.opted_out

    def reply(self, keyword: Keyword) -> bool:
        """Apply an opt-out or opt-in reply; True when consent changed (one confirmation)."""
        if keyword.intent is Intent.OPT_OUT:
            if set(self.opted_out) >= {Scope.TRANSACTIONAL.value, Scope.MARKETING.value}:
                return False
            self._changed(self.tenant_id, self.address, Scope.ALL.value, False, keyword.word)
            return True
        if keyword.intent is Intent.OPT_IN:
            if Scope.TRANSACTIONAL.value not in self.opted_out:
                return False
            self._changed(
                self.tenant_id, self.address, Scope.TRANSACTIONAL.value, True, keyword.word
            )
            return True
        return False

    class Changed(Aggregate.Event):
        tenant_id: str
        address: str
        scope: str
        granted: bool
        keyword: str | None

    @event(Changed)
    def _changed(
        self, tenant_id: str, address: str, scope: str, granted: bool, keyword: str | None
    ) -> None:
        scopes = (
            {Scope.TRANSACTIONAL.value, Scope.MARKETING.value} if scope == Scope.ALL else {scope}
        )
        current = set(self.opted_out)
        self.opted_out = sorted(current - scopes if granted else current | scopes)
