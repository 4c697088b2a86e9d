from __future__ import annotations

from typing import Any

from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver

from accounts import language, lockout


@receiver(user_logged_in)
def forget_failures(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    """A complete sign-in (for staff: after the second factor) forgets the account's failures.

    Not the address's (axes' AXES_RESET_ON_SUCCESS would clear both): one person's successful
    sign-in must not reset the count of someone guessing from the same address.
    """
    lockout.forget_account_failures(user.email)


@receiver(user_logged_in)
def apply_stored_language(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    """A patient's stored language wins over the cookie and the browser's from now on."""
    if request is not None:
        language.apply_at_sign_in(request, user)
