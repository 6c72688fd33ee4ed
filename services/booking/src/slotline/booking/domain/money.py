"""Money in minor units with its currency — never a float."""

from __future__ import annotations

from dataclasses import dataclass


class CurrencyMismatch(ValueError):
    """Two amounts in different currencies cannot be combined."""


@dataclass(frozen=True)
class Money:
    amount_minor: int
    currency: str

    def __post_init__(self) -> None:
        if self.amount_minor < 0:
            raise ValueError("an amount cannot be negative")
        if len(self.currency) != 3 or not self.currency.isupper():
            raise ValueError(f"{self.currency!r} is not an ISO 4217 code")

    def percent(self, percent: int) -> Money:
        """``percent`` % of this amount, rounded half up to the minor unit."""
        return Money((self.amount_minor * percent + 50) // 100, self.currency)

    def minus(self, other: Money) -> Money:
        """This amount less ``other``, never below zero."""
        self._same_currency(other)
        return Money(max(0, self.amount_minor - other.amount_minor), self.currency)

    def at_most(self, cap: Money) -> Money:
        self._same_currency(cap)
        return self if self.amount_minor <= cap.amount_minor else cap

    def _same_currency(self, other: Money) -> None:
        if other.currency != self.currency:
            raise CurrencyMismatch(f"{self.currency} and {other.currency} do not mix")

    def to_data(self) -> dict[str, object]:
        return {"amount_minor": self.amount_minor, "currency": self.currency}

    @classmethod
    def from_data(cls, data: dict[str, object] | None) -> Money | None:
        if data is None:
            return None
        return cls(int(str(data["amount_minor"])), str(data["currency"]))
