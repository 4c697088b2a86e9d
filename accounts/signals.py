from __future__ import annotations

from typing import Any

from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.dispatch import receiver

from accounts import security


@receiver(user_login_failed)
def count_failure(
    sender: Any, credentials: dict[str, Any], request: Any = None, **kwargs: Any
) -> None:
    username = credentials.get("username") or ""
    if username:
        security.record_failure(str(username), security.client_ip(request))


@receiver(user_logged_in)
def forget_failures(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    security.clear_failures(user.email)
