"""Instructions rendered as TwiML (built as an XML tree, never by string concatenation)."""

from __future__ import annotations

from xml.etree.ElementTree import Element, SubElement, tostring

from slotline.call_intake.domain.instructions import (
    AskRecordingConsent,
    HangUp,
    Instruction,
    Ring,
    TakeVoicemail,
)

TWIML_MEDIA_TYPE = "application/xml"


def render(instruction: Instruction, base_path: str, language: str = "en") -> bytes:
    """TwiML for ``instruction``; callbacks go to the routes under ``base_path``."""
    response = Element("Response")
    voice = {"language": _say_language(language)}
    match instruction:
        case Ring():
            if instruction.disclosure:
                SubElement(response, "Say", voice).text = instruction.disclosure
            dial = SubElement(
                response,
                "Dial",
                {
                    "action": f"{base_path}/dial?step={instruction.step}",
                    "method": "POST",
                    "timeout": str(instruction.timeout_seconds),
                    "answerOnBridge": "true",
                },
            )
            if instruction.record:
                dial.set("record", "record-from-answer-dual")
                dial.set("recordingStatusCallback", f"{base_path}/recording")
            for number in instruction.numbers:
                SubElement(dial, "Number", {"machineDetection": "Enable"}).text = number
        case AskRecordingConsent():
            gather = SubElement(
                response,
                "Gather",
                {
                    "numDigits": "1",
                    "timeout": "4",
                    "action": f"{base_path}/consent",
                    "method": "POST",
                },
            )
            SubElement(gather, "Say", voice).text = instruction.prompt
            SubElement(response, "Redirect", {"method": "POST"}).text = f"{base_path}/consent"
        case TakeVoicemail():
            SubElement(response, "Say", voice).text = instruction.prompt
            SubElement(
                response,
                "Record",
                {
                    "action": f"{base_path}/voicemail",
                    "method": "POST",
                    "maxLength": str(instruction.max_seconds),
                    "playBeep": "true",
                    "transcribe": "true",
                    "transcribeCallback": f"{base_path}/transcription",
                },
            )
        case HangUp():
            if instruction.message:
                SubElement(response, "Say", voice).text = instruction.message
            SubElement(response, "Hangup")
    document: bytes = tostring(response, encoding="utf-8", xml_declaration=True)
    return document


def _say_language(language: str) -> str:
    return language if "-" in language else {"en": "en-US"}.get(language, language)
