"""Amounts of money: integer minor units (cents) with an ISO 4217 currency, never floats."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

# Minor units per currency where they are not 2 (ISO 4217); the clinics bill in USD today.
_EXPONENT = {"JPY": 0, "KRW": 0, "CLP": 0}


def exponent(currency: str) -> int:
    return _EXPONENT.get(currency.upper(), 2)


@dataclass(frozen=True, order=True)
class Money:
    amount: int
    currency: str = "USD"

    def __add__(self, other: Money) -> Money:
        if other.currency != self.currency:
            raise ValueError("Amounts in different currencies cannot be added.")
        return Money(self.amount + other.amount, self.currency)

    def __mul__(self, times: int) -> Money:
        return Money(self.amount * times, self.currency)

    @classmethod
    def zero(cls, currency: str = "USD") -> Money:
        return cls(0, currency)

    def as_decimal(self) -> Decimal:
        return Decimal(self.amount).scaleb(-exponent(self.currency))

    def __str__(self) -> str:
        symbol = "$" if self.currency == "USD" else f"{self.currency} "
        sign = "-" if self.amount < 0 else ""
        return f"{sign}{symbol}{abs(self.as_decimal()):,.{exponent(self.currency)}f}"
