"""Customer contact details, normalised so one person is one customer record."""

from __future__ import annotations

from dataclasses import dataclass

import phonenumbers


class InvalidContact(ValueError):
    """A phone number or e-mail address that cannot be used; ``field`` names which."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def normalise_phone(raw: str, default_region: str | None = None) -> str:
    """E.164 form of a phone number written any common way ("+30 694 …", "00 30 …",
    or national digits with the business's ``default_region``)."""
    text = raw.strip()
    if text.startswith("00"):
        text = "+" + text[2:]
    try:
        number = phonenumbers.parse(text, default_region)
    except phonenumbers.NumberParseException as error:
        raise InvalidContact("phone", f"{raw!r} is not a phone number: {error}") from None
    if not phonenumbers.is_valid_number(number):
        raise InvalidContact("phone", f"{raw!r} is not a valid phone number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalise_email(raw: str) -> str:
    """Lower-cased, trimmed address; domains are case-insensitive and so, in practice,
    are mailboxes."""
    text = raw.strip().lower()
    local, at, domain = text.partition("@")
    if not at or not local or "." not in domain or " " in text:
        raise InvalidContact("email", f"{raw!r} is not an e-mail address")
    return text


@dataclass(frozen=True)
class ContactDetails:
    """How to reach a customer; at least one of phone and e-mail."""

    name: str
    phone: str | None = None
    email: str | None = None
    language: str = "en"

    def __post_init__(self) -> None:
        if not self.name.strip():
            raise InvalidContact("name", "a name is required")
        if not self.phone and not self.email:
            raise InvalidContact("phone", "a phone number or an e-mail address is required")

    @classmethod
    def normalised(
        cls,
        name: str,
        phone: str | None,
        email: str | None,
        language: str = "en",
        default_region: str | None = None,
    ) -> ContactDetails:
        return cls(
            name=name.strip(),
            phone=normalise_phone(phone, default_region) if phone else None,
            email=normalise_email(email) if email else None,
            language=language,
        )

    @property
    def customer_key(self) -> str:
        """The key of the customer record: the phone if given, else the e-mail."""
        return f"phone:{self.phone}" if self.phone else f"email:{self.email}"

    def to_data(self) -> dict[str, str | None]:
        return {
            "name": self.name,
            "phone": self.phone,
            "email": self.email,
            "language": self.language,
        }

    @classmethod
    def from_data(cls, data: dict[str, str | None]) -> ContactDetails:
        return cls(
            name=str(data["name"]),
            phone=data.get("phone"),
            email=data.get("email"),
            language=str(data.get("language") or "en"),
        )
