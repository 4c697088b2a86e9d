"""Who may have an account: adults only (docs/product-rules.md#who-the-clinics-treat).

Registration (accounts) and the intake's first step ask the same question with the same words,
so the rule lives here, in the app both use.
"""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

MINIMUM_AGE = 18


def age_on(birth: dt.date, day: dt.date) -> int:
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def validate_adult_birth_date(value: dt.date) -> None:
    # The patient's zone is not known yet (no location is chosen at registration). The server's
    # date (UTC) is on or after the date at every clinic in the Americas, so a date that is today
    # where the patient is is never refused as "in the future"; an 18th birthday may count a day
    # early, and the clinician sees the date of birth on the summary.
    today = timezone.localdate()
    if value > today:
        raise ValidationError(_("Your date of birth cannot be in the future."))
    if age_on(value, today) < MINIMUM_AGE:
        raise ValidationError(
            _(
                "This service is for adults (18 or over). Please ask your doctor about care for "
                "younger patients."
            )
        )
    if age_on(value, today) > 120:
        raise ValidationError(_("Please check the year of your date of birth."))
