"""``calls.events.v1``, part one — calls, routing decisions, missed calls, inbound messages.

Published by call-intake; read by booking (the customer timeline), notifier (the
WhatsApp 24-hour customer window opens with ``WhatsAppMessageReceived``) and analysts
(missed-call rate, speed to lead). Text-backs and escalations are requests on
``notifications.events.v1``. Aggregate: the call (or the inbound message / lead).

Callback tasks (same topic) are in ``callbacks``.
"""

from __future__ import annotations

from enum import StrEnum
from typing import ClassVar

from pydantic import AwareDatetime, ConfigDict, Field

from slotline.events.contract.common import E164, Id, MessageChannel
from slotline.events.envelope import Message
from slotline.events.topics import CALLS_EVENTS


class CallEvent(Message):
    TOPIC: ClassVar[str] = CALLS_EVENTS
    KEY: ClassVar[str] = "{call_id}"
    ABSTRACT: ClassVar[bool] = True


class MissReason(StrEnum):
    """Why a call counts as missed (from the Dial outcome, not the parent call)."""

    NO_ANSWER = "no_answer"
    BUSY = "busy"
    FAILED = "failed"
    CANCELED = "canceled"
    MACHINE_ANSWERED = "machine_answered"
    VOICEMAIL = "voicemail"


_CALL = "The call; Slotline's id, stable across webhook retries."


class CallReceived(CallEvent):
    """An inbound call reached one of the business's numbers."""

    PERSONAL: ClassVar[tuple[str, ...]] = ("from_phone",)
    SCHEMA_VERSION: ClassVar[int] = 2

    call_id: Id = Field(description=_CALL)
    from_phone: E164 = Field(description="The caller.")
    to_phone: E164 = Field(description="The business number dialled.")
    provider_call_sid: str = Field(max_length=64, description="The telephony provider's id.")


class CallRouted(CallEvent):
    """Where a call was sent and why (business hours, team, strategy, overflow)."""

    call_id: Id = Field(description=_CALL)
    target: str = Field(max_length=200, description="team:<id>, number:<e164> or voicemail.")
    strategy: str = Field(
        max_length=32, description="simultaneous, round_robin, longest_idle, overflow, …."
    )
    reason: str = Field(max_length=200, description="Why this target, e.g. after_hours.")


class CallAnswered(CallEvent):
    """A person answered the call."""

    call_id: Id = Field(description=_CALL)
    answered_by: Id | None = Field(default=None, description="The staff member, if known.")


class CallMissed(CallEvent):
    """Nobody answered: why it counts as missed."""

    PERSONAL: ClassVar[tuple[str, ...]] = ("from_phone",)
    SCHEMA_VERSION: ClassVar[int] = 2

    call_id: Id = Field(description=_CALL)
    from_phone: E164 = Field(description="The caller.")
    to_phone: E164 = Field(description="The business number dialled.")
    reason: MissReason = Field(description="Why it counts as missed.")
    after_hours: bool = Field(default=False, description="Outside the location's hours.")


class VoicemailRecorded(CallEvent):
    """The caller left a message."""

    PERSONAL: ClassVar[tuple[str, ...]] = ("recording_url", "transcription")
    SCHEMA_VERSION: ClassVar[int] = 2

    call_id: Id = Field(description=_CALL)
    recording_url: str = Field(max_length=2048, description="Where the recording is.")
    duration_seconds: int = Field(ge=0, description="Length of the recording.")
    transcription: str | None = Field(
        default=None, max_length=10000, description="Text of the message, if transcribed."
    )


class WhatsAppMessageReceived(CallEvent):
    """A customer wrote on WhatsApp; the 24-hour customer window opens at ``occurred_at``."""

    PERSONAL: ClassVar[tuple[str, ...]] = ("from_phone", "text")
    SCHEMA_VERSION: ClassVar[int] = 2

    KEY: ClassVar[str] = (
        "The inbound message: Slotline's own id for it, not the provider's message_id."
    )

    message_id: str = Field(
        min_length=1, max_length=256, description="WhatsApp's id (wamid…); duplicates dropped."
    )
    from_phone: E164 = Field(description="The customer.")
    to_phone: E164 | None = Field(default=None, description="The business number written to.")
    text: str | None = Field(default=None, max_length=4096, description="The message text.")
    booking_intent: bool = Field(
        default=False, description="It came from a text-back booking link (a request follows)."
    )
    lead_id: Id | None = Field(default=None, description="The lead it became, if any.")


class LeadCaptured(CallEvent):
    """A customer reached out (WhatsApp message, web lead) without booking yet."""

    PERSONAL: ClassVar[tuple[str, ...]] = ("phone", "text", "name")
    SCHEMA_VERSION: ClassVar[int] = 2

    KEY: ClassVar[str] = (
        "The inbound message: Slotline's own id for it, not the provider's message_id."
    )

    lead_id: Id = Field(description="The lead; also the aggregate id.")
    phone: E164 | None = Field(default=None, description="How to reach them, if known.")
    channel: MessageChannel = Field(description="How they reached out.")
    text: str | None = Field(default=None, max_length=4096, description="What they wrote.")
    name: str | None = Field(
        default=None,
        max_length=200,
        description="The name they gave (a web form's, a WhatsApp profile's), if any.",
    )


class VoicemailTranscribed(CallEvent):
    """The text of a voicemail arrived after the recording (transcription is slower)."""

    PERSONAL: ClassVar[tuple[str, ...]] = ("transcription",)
    SCHEMA_VERSION: ClassVar[int] = 2

    call_id: Id = Field(description=_CALL)
    recording_id: str = Field(max_length=64, description="The provider's recording id.")
    transcription: str = Field(max_length=10000, description="Text of the message.")


class TextBackWithheld(CallEvent):
    """A missed caller was not texted back now: why, and until when if only held."""

    call_id: Id = Field(description=_CALL)
    reason: str = Field(
        max_length=64,
        description="opted_out, landline, business_number, already_texted_in_window, "
        "text_back_disabled or quiet_hours.",
    )
    held_until: AwareDatetime | None = Field(
        default=None, description="For quiet_hours: when the text will be sent, UTC."
    )


class CallReceivedV1(CallReceived):
    """An inbound call reached one of the business's numbers.

    Version 1, read still: its personal fields travel in clear (version 2 seals them).
    """

    model_config = ConfigDict(title=CallReceived.EVENT_TYPE)
    EVENT_TYPE: ClassVar[str] = CallReceived.EVENT_TYPE
    SCHEMA_VERSION: ClassVar[int] = 1
    PERSONAL: ClassVar[tuple[str, ...]] = ()


class CallMissedV1(CallMissed):
    """Nobody answered: why it counts as missed.

    Version 1, read still: its personal fields travel in clear (version 2 seals them).
    """

    model_config = ConfigDict(title=CallMissed.EVENT_TYPE)
    EVENT_TYPE: ClassVar[str] = CallMissed.EVENT_TYPE
    SCHEMA_VERSION: ClassVar[int] = 1
    PERSONAL: ClassVar[tuple[str, ...]] = ()


class VoicemailRecordedV1(VoicemailRecorded):
    """The caller left a message.

    Version 1, read still: its personal fields travel in clear (version 2 seals them).
    """

    model_config = ConfigDict(title=VoicemailRecorded.EVENT_TYPE)
    EVENT_TYPE: ClassVar[str] = VoicemailRecorded.EVENT_TYPE
    SCHEMA_VERSION: ClassVar[int] = 1
    PERSONAL: ClassVar[tuple[str, ...]] = ()


class WhatsAppMessageReceivedV1(WhatsAppMessageReceived):
    """A customer wrote on WhatsApp; the 24-hour customer window opens at ``occurred_at``.

    Version 1, read still: its personal fields travel in clear (version 2 seals them).
    """

    model_config = ConfigDict(title=WhatsAppMessageReceived.EVENT_TYPE)
    EVENT_TYPE: ClassVar[str] = WhatsAppMessageReceived.EVENT_TYPE
    SCHEMA_VERSION: ClassVar[int] = 1
    PERSONAL: ClassVar[tuple[str, ...]] = ()


class LeadCapturedV1(LeadCaptured):
    """A customer reached out (WhatsApp message, web lead) without booking yet.

    Version 1, read still: its personal fields travel in clear (version 2 seals them).
    """

    model_config = ConfigDict(title=LeadCaptured.EVENT_TYPE)
    EVENT_TYPE: ClassVar[str] = LeadCaptured.EVENT_TYPE
    SCHEMA_VERSION: ClassVar[int] = 1
    PERSONAL: ClassVar[tuple[str, ...]] = ()


class VoicemailTranscribedV1(VoicemailTranscribed):
    """The text of a voicemail arrived after the recording (transcription is slower).

    Version 1, read still: its personal fields travel in clear (version 2 seals them).
    """

    model_config = ConfigDict(title=VoicemailTranscribed.EVENT_TYPE)
    EVENT_TYPE: ClassVar[str] = VoicemailTranscribed.EVENT_TYPE
    SCHEMA_VERSION: ClassVar[int] = 1
    PERSONAL: ClassVar[tuple[str, ...]] = ()
