"""The identifiers printed on an estimate: the National Provider Identifier and the US tax id.

An NPI is 10 digits whose last is a Luhn check digit computed over the number prefixed with
80840, the health-industry prefix of the card-issuer identifier it was modelled on (CMS, "NPI
check digit"). The check itself is python-stdnum's Luhn; the prefix is the NPI's rule. A TIN is
an EIN (or the provider's SSN or ITIN), read by python-stdnum's `us.tin`
(docs/paperwork.md#who-and-what).
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from stdnum import luhn
from stdnum.exceptions import ValidationError as NumberError
from stdnum.us import ein, tin

NPI_PREFIX = "80840"


def compact(value: str) -> str:
    return "".join(ch for ch in value if ch.isdigit())


def is_valid_npi(value: str) -> bool:
    """Ten digits, the first 1 or 2, and the Luhn check over 80840 + the digits."""
    number = compact(value)
    if len(number) != 10 or number[0] not in "12" or number != value.strip().replace(" ", ""):
        return False
    return bool(luhn.is_valid(NPI_PREFIX + number))


def validate_npi(value: str) -> None:
    if not is_valid_npi(value):
        raise ValidationError(
            _("This is not a valid NPI: ten digits, the last a check digit (Luhn with 80840)."),
            code="npi",
        )


def validate_tin(value: str) -> None:
    try:
        tin.validate(value)
    except NumberError:
        raise ValidationError(
            _("This is not a valid US taxpayer identification number (e.g. 12-3456789)."),
            code="tin",
        ) from None


def format_tin(value: str) -> str:
    """An EIN as 12-3456789; anything else as stored."""
    return str(ein.format(value)) if ein.is_valid(value) else value
