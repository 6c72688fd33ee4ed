"""What to tell the telephony provider next on a call (rendered as TwiML elsewhere)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Ring:
    """Ring ``numbers`` (together) for ``timeout_seconds``; report back as ``step``."""

    step: int
    numbers: tuple[str, ...]
    timeout_seconds: int
    record: bool
    disclosure: str | None = None


@dataclass(frozen=True)
class AskRecordingConsent:
    """Play ``prompt`` and read one key: the caller's recording choice."""

    prompt: str


@dataclass(frozen=True)
class TakeVoicemail:
    prompt: str
    max_seconds: int = 120


@dataclass(frozen=True)
class HangUp:
    message: str | None = None


Instruction = Ring | AskRecordingConsent | TakeVoicemail | HangUp

RECORDING_DISCLOSURE = "This call may be recorded for quality and training."
CONSENT_PROMPTS = {
    "opt_in": "To allow this call to be recorded, press 1 now.",
    "opt_out": "This call will be recorded. To decline recording, press 9 now.",
}
VOICEMAIL_PROMPT = "Sorry we missed you. Please leave a message after the tone."
CLOSED_MESSAGE = "Sorry, we are closed. We will text you a link to book."
