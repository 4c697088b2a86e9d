"""Forms of the price settings, the waiver and the refund; they validate and return typed
values, the services write."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from billing.models import FeePolicy, Package, Service


class MoneyField(forms.DecimalField):
    """Dollars and cents as people type them ("150", "150.00"); cleaned to integer cents."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("min_value", Decimal("0"))
        kwargs.setdefault("max_digits", 9)
        kwargs.setdefault("decimal_places", 2)
        super().__init__(**kwargs)

    def clean(self, value: Any) -> int | None:
        amount = super().clean(value)
        if amount is None:
            return None
        try:
            return int((amount * 100).to_integral_value())
        except InvalidOperation as error:
            raise forms.ValidationError(_("Enter an amount such as 150 or 150.00.")) from error


def cents(value: int) -> str:
    return f"{Decimal(value).scaleb(-2):.2f}"


class FeePolicyForm(forms.Form):
    deposit_infusion = MoneyField(label="Deposit for an infusion series booked online")
    deposit_visit = MoneyField(label="Deposit for a visit booked online")
    require_payment_online = forms.BooleanField(
        label="Confirm an online series only with a package or a paid deposit", required=False
    )
    late_cancel_fee = MoneyField(label="Late-cancellation fee")
    late_cancel_window_hours = forms.IntegerField(
        label="Late when cancelled within (hours)", min_value=1, max_value=24 * 7
    )
    no_show_fee = MoneyField(label="No-show fee")
    grace_hours = forms.IntegerField(
        label="Charge a fee after (hours), so the desk can waive it first",
        min_value=0,
        max_value=24 * 30,
    )

    @classmethod
    def initial_from(cls, policy: FeePolicy) -> dict[str, Any]:
        return {
            "deposit_infusion": cents(policy.deposit_infusion),
            "deposit_visit": cents(policy.deposit_visit),
            "require_payment_online": policy.require_payment_online,
            "late_cancel_fee": cents(policy.late_cancel_fee),
            "late_cancel_window_hours": policy.late_cancel_window_hours,
            "no_show_fee": cents(policy.no_show_fee),
            "grace_hours": policy.grace_hours,
        }


class LinesForm(forms.Form):
    """A service's lines, one a line: `code | description | units | amount`."""

    service = forms.ChoiceField(choices=Service.choices)
    lines = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="One line each: code | description | units | amount, e.g. "
        "96365 | Infusion, first hour | 1 | 300.00",
    )

    def clean_lines(self) -> list[tuple[str, str, int, int]]:
        parsed = []
        for number, raw in enumerate(self.cleaned_data["lines"].splitlines(), start=1):
            if not raw.strip():
                continue
            parts = [part.strip() for part in raw.split("|")]
            if len(parts) != 4:
                raise forms.ValidationError(
                    f"Line {number}: write code | description | units | amount."
                )
            code, description, units_text, amount_text = parts
            if not code or len(code) > 10 or not description or len(description) > 200:
                raise forms.ValidationError(
                    f"Line {number}: a code of up to 10 characters and a description."
                )
            try:
                units = int(units_text)
                amount = Decimal(amount_text.lstrip("$"))
            except (ValueError, InvalidOperation):
                raise forms.ValidationError(
                    f"Line {number}: units are a whole number and the amount like 300.00."
                ) from None
            if units < 1 or units > 99 or amount < 0 or amount > Decimal("99999"):
                raise forms.ValidationError(f"Line {number}: units or amount out of range.")
            parsed.append((code, description, units, int((amount * 100).to_integral_value())))
        if not parsed:
            raise forms.ValidationError("Give at least one line.")
        return parsed


class PackageForm(forms.ModelForm[Package]):
    price = MoneyField(label="Price")

    class Meta:
        model = Package
        fields = ["name", "service", "sessions", "expiry_days"]
        labels = {"sessions": "Sessions", "expiry_days": "Usable for (days)"}

    def clean_price(self) -> int:
        price = self.cleaned_data["price"]
        if not price:
            raise forms.ValidationError("A package has a price.")
        return int(price)


class WaiveForm(forms.Form):
    reason = forms.CharField(label="Why is it waived?", max_length=300)


class RefundForm(forms.Form):
    amount = MoneyField(label="Amount to refund", min_value=Decimal("0.01"))
    reason = forms.CharField(label="Reason", max_length=300)
