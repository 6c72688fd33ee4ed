"""The four fields a customer types (name, phone, e-mail, note) and the checks made
before anything is sent: every problem is named against its field, in words that
say what to do."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_PHONE = re.compile(r"^\+?[\d\s().\-]{6,24}$")


@dataclass
class Details:
    name: str = ""
    phone: str = ""
    email: str = ""
    note: str = ""
    errors: dict[str, str] = field(default_factory=dict)  # field → message id

    @classmethod
    def of(cls, form: dict[str, str]) -> Details:
        return cls(
            name=form.get("name", "").strip()[:200],
            phone=form.get("phone", "").strip()[:40],
            email=form.get("email", "").strip()[:254],
            note=form.get("note", "").strip()[:2000],
        )

    def check(self) -> bool:
        """Fill ``errors``; True when the details can be sent."""
        self.errors = {}
        if not self.name:
            self.errors["name"] = "name_missing"
        if not self.phone and not self.email:
            self.errors["phone"] = "contact_missing"
        if self.phone and not _PHONE.match(self.phone):
            self.errors["phone"] = "phone_invalid"
        if self.email and not _EMAIL.match(self.email):
            self.errors["email"] = "email_invalid"
        return not self.errors

    def refused(self, errors: Iterable[Mapping[str, Any]]) -> list[str]:
        """Name the booking service's field errors (its 422 ``errors``) against these
        fields; the names of the fields it refused that are not these are returned."""
        others = []
        for error in errors:
            name = str(error.get("field", "")).split(".")[0]
            if name in ("phone", "email"):
                self.errors[name] = f"{name}_invalid"
            elif name == "name":
                self.errors[name] = "check_field"
            else:
                others.append(name)
        return others
