"""The call-intake service's event-sourced application: every use case in one store.

Calls (``call_handling``), callback tasks (``callbacks``) and what other services and
channels tell it (``contacts``) share the store, the clock and the policy (``intake_base``).
"""

from slotline.call_intake.call_handling import CallHandling, InboundCall
from slotline.call_intake.callbacks import CallbackWork
from slotline.call_intake.contacts import ContactHandling, CustomerMessage
from slotline.call_intake.intake_base import IntakePolicy, UnknownItem
from slotline.events.clock import utc_now

__all__ = [
    "CallIntakeApplication",
    "CustomerMessage",
    "InboundCall",
    "IntakePolicy",
    "UnknownItem",
    "utc_now",
]


class CallIntakeApplication(CallHandling, CallbackWork, ContactHandling):
    """Owns the call-intake event store and its tracking table."""
