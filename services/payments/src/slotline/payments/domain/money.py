"""Money in minor units (cents) with its currency — never a float — and tax arithmetic."""

from __future__ import annotations

import re
from dataclasses import dataclass

_CURRENCY = re.compile(r"^[A-Z]{3}$")
BASIS_POINTS = 10_000


class CurrencyMismatch(ValueError):
    """Two amounts in different currencies were combined."""


@dataclass(frozen=True, slots=True)
class Money:
    """A non-negative amount in the currency's minor unit."""

    amount_minor: int
    currency: str

    def __post_init__(self) -> None:
        if isinstance(self.amount_minor, bool) or not isinstance(self.amount_minor, int):
            raise TypeError("amounts are whole minor units (int), never floats")
        if self.amount_minor < 0:
            raise ValueError("an amount cannot be negative")
        if not _CURRENCY.match(self.currency):
            raise ValueError(f"{self.currency!r} is not an ISO 4217 currency code")

    @classmethod
    def zero(cls, currency: str) -> Money:
        return cls(0, currency)

    def _same(self, other: Money) -> None:
        if other.currency != self.currency:
            raise CurrencyMismatch(f"{self.currency} and {other.currency} do not mix")

    def __add__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount_minor + other.amount_minor, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount_minor - other.amount_minor, self.currency)

    def __str__(self) -> str:
        whole, cents = divmod(self.amount_minor, 100)
        return f"{whole}.{cents:02d} {self.currency}"


def _divide_half_up(numerator: int, denominator: int) -> int:
    return (2 * numerator + denominator) // (2 * denominator)


def tax_included_in(gross: int, rate_basis_points: int) -> int:
    """The tax inside a tax-inclusive amount (rounded half up): 124 at 24 % → 24."""
    return _divide_half_up(gross * rate_basis_points, BASIS_POINTS + rate_basis_points)


def tax_on(net: int, rate_basis_points: int) -> int:
    """The tax added on top of a net amount (rounded half up): 100 at 24 % → 24."""
    return _divide_half_up(net * rate_basis_points, BASIS_POINTS)


def share_of(amount: int, percent: int) -> int:
    """``percent`` % of ``amount`` in minor units, rounded half up."""
    return _divide_half_up(amount * percent, 100)
