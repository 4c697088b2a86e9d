"""The request type of views behind `role_required` or `login_required`."""

from __future__ import annotations

from django.http import HttpRequest

from accounts.models import User


class AuthenticatedRequest(HttpRequest):
    """A request whose user has signed in: what a view behind the access helpers receives.

    Django types `request.user` as a user or AnonymousUser; after `login_required` it is always
    our `User`, and this type says so once instead of at every `request.user` in the views.
    """

    user: User
