"""The language a patient reads the site and their messages in (README "Languages").

A patient's choice is stored on their profile (`PatientProfile.preferred_language`): set at
registration from the language they registered in, by the language switch, and by the intake's
"Preferred language". At sign-in it is copied into the session, so applying it costs no query per
page (`accounts.middleware.PatientLanguageMiddleware`), and into the language cookie, so the pages
before the next sign-in are in it too. Messages read it from the profile when they are sent.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest, HttpResponse

from accounts.models import PatientProfile, User

SESSION_KEY = "patient_language"


def supported(code: str | None) -> str | None:
    """The code itself if the site is translated into it ("other" and "" are not)."""
    return code if code in dict(settings.LANGUAGES) else None


def or_default(code: str | None) -> str:
    """The code if the site is translated into it, else the site's default language."""
    return supported(code) or settings.LANGUAGE_CODE


def of_patient(user: User) -> str:
    """The language to write to this patient in: their stored choice, else the site's default."""
    stored = (
        PatientProfile.objects.filter(user=user)
        .values_list("preferred_language", flat=True)
        .first()
    )
    return or_default(stored)


def of_session(request: HttpRequest) -> str | None:
    return supported(request.session.get(SESSION_KEY))


def remember(request: HttpRequest, response: HttpResponse, code: str) -> None:
    """Sets the language cookie when it says something else (pages after signing out keep it)."""
    if request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME) == code:
        return
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        code,
        max_age=settings.LANGUAGE_COOKIE_AGE,
        path=settings.LANGUAGE_COOKIE_PATH,
        domain=settings.LANGUAGE_COOKIE_DOMAIN,
        secure=settings.LANGUAGE_COOKIE_SECURE,
        httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
        samesite=settings.LANGUAGE_COOKIE_SAMESITE,  # type: ignore[arg-type]  # "Lax" (settings)
    )


def apply_at_sign_in(request: HttpRequest, user: User | AnonymousUser) -> None:
    """The patient's stored language becomes the session's; a patient who has none yet keeps the
    one they are reading in, and it is stored."""
    if not isinstance(user, User) or user.is_clinic_staff:
        return
    profile = PatientProfile.objects.filter(user=user).first()
    if profile is None:
        return
    stored = supported(profile.preferred_language)
    if stored is None:
        stored = or_default(getattr(request, "LANGUAGE_CODE", None))
        if not profile.preferred_language:
            PatientProfile.objects.filter(pk=profile.pk).update(preferred_language=stored)
    request.session[SESSION_KEY] = stored


def choose(request: HttpRequest, code: str) -> None:
    """The language switch: a signed-in patient's choice is stored on their profile too."""
    user = request.user
    if user.is_authenticated and isinstance(user, User) and not user.is_clinic_staff:
        PatientProfile.objects.filter(user=user).update(preferred_language=code)
        request.session[SESSION_KEY] = code
