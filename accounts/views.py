"""Views of the accounts app: role homes, patient registration and front-desk invitations."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from accounts import services
from accounts.access import role_required
from accounts.forms import (
    ChoosePasswordForm,
    InvitationAcceptForm,
    InvitationForm,
    RegistrationForm,
    ResendVerificationForm,
)
from accounts.models import Invitation, Role
from locations.models import Location, NurseShift


@login_required
def home(request: HttpRequest) -> HttpResponse:
    return redirect(request.user.get_home_url())  # type: ignore[union-attr]


@role_required(Role.NURSE)
def nurse_home(request: HttpRequest) -> HttpResponse:
    now = timezone.now()
    shifts = (
        NurseShift.objects.filter(nurse=request.user, ends_at__gte=now)
        .select_related("location")
        .order_by("starts_at")[:10]
    )
    return render(request, "accounts/home_nurse.html", {"shifts": shifts})


@role_required(Role.CLINIC_ADMIN)
def clinic_admin_home(request: HttpRequest) -> HttpResponse:
    locations = Location.objects.prefetch_related("chairs", "opening_hours")
    return render(request, "accounts/home_clinic_admin.html", {"locations": locations})


# --- Registration --------------------------------------------------------------------------------

# Sessions created here are the patient's own; the default backend is named because `login`
# needs one when the user did not come through `authenticate`.
_BACKEND = "django.contrib.auth.backends.ModelBackend"


def _signed_in_elsewhere(request: HttpRequest) -> HttpResponse | None:
    """Registration pages are for people without an account in this browser."""
    if request.user.is_authenticated:
        messages.info(request, "You are already signed in.")
        return redirect(request.user.get_home_url())  # type: ignore[union-attr]
    return None


@require_http_methods(["GET", "POST"])
def register(request: HttpRequest) -> HttpResponse:
    if (response := _signed_in_elsewhere(request)) is not None:
        return response
    form = RegistrationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        # Same answer whether or not the address was new: see services.register_patient.
        services.register_patient(form.cleaned_data["email"], form.personal_details())
        return redirect("accounts:register_done")
    return render(request, "accounts/register.html", {"form": form})


def register_done(request: HttpRequest) -> HttpResponse:
    return render(request, "accounts/register_done.html", {"hours": services.VERIFY_HOURS})


@require_http_methods(["GET", "POST"])
def verify_email(request: HttpRequest, token: str) -> HttpResponse:
    """GET shows the "choose your password" form and changes nothing; its POST does it all.

    Mail scanners that open links therefore use up nothing, and the password is chosen only by
    whoever holds the emailed link, never by whoever filled in the sign-up form.
    """
    try:
        user = services.pending_patient(token)
        form = ChoosePasswordForm(user, request.POST or None)
        if request.method == "POST" and form.is_valid():
            user = services.verify_email(token, password=form.password)
            login(request, user, backend=_BACKEND)
            messages.success(request, "Thank you, your email address is confirmed. Welcome!")
            return redirect(user.get_home_url())
    except services.LinkExpired:
        return _verify_failed(request, expired=True, status=410)
    except services.InvalidLink:
        return _verify_failed(request, expired=False, status=404)
    except services.AlreadyVerified:
        return render(request, "accounts/verify_already.html")
    return render(
        request, "accounts/verify_choose_password.html", {"form": form, "email": user.email}
    )


def _verify_failed(request: HttpRequest, *, expired: bool, status: int) -> HttpResponse:
    return render(
        request,
        "accounts/verify_invalid.html",
        {"expired": expired, "form": ResendVerificationForm()},
        status=status,
    )


@require_http_methods(["GET", "POST"])
def resend_verification(request: HttpRequest) -> HttpResponse:
    form = ResendVerificationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        services.resend_verification(form.cleaned_data["email"])
        return redirect("accounts:register_done")
    return render(request, "accounts/resend_verification.html", {"form": form})


# --- Invitations ---------------------------------------------------------------------------------


@role_required(Role.FRONT_DESK, Role.CLINIC_ADMIN)
@require_http_methods(["GET", "POST"])
def invite(request: HttpRequest) -> HttpResponse:
    form = InvitationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        invitation, _token = services.create_invitation(
            email=form.cleaned_data["email"],
            first_name=form.cleaned_data["first_name"],
            location=form.cleaned_data["location"],
            invited_by=request.user,  # type: ignore[arg-type]
        )
        messages.success(
            request,
            f"Invitation sent to {invitation.email}. "
            f"The link works for {services.INVITATION_LIFETIME.days} days.",
        )
        return redirect("accounts:invite")
    invitations = Invitation.objects.select_related("location").order_by("-created_at")[:20]
    return render(
        request,
        "accounts/invite.html",
        {
            "form": form,
            "invitations": invitations,
            "now": timezone.now(),
            "lifetime_days": services.INVITATION_LIFETIME.days,
        },
    )


@require_http_methods(["GET", "POST"])
def accept_invitation(request: HttpRequest, token: str) -> HttpResponse:
    if (response := _signed_in_elsewhere(request)) is not None:
        return response
    try:
        invitation = services.usable_invitation(token)
    except services.InvitationUnavailable as unavailable:
        return _invitation_unavailable(request, unavailable)
    if services.email_has_account(invitation.email):
        return _invitation_account_exists(request, invitation.email)
    form = InvitationAcceptForm(
        request.POST or None,
        invited_email=invitation.email,
        initial={"first_name": invitation.first_name},
    )
    if request.method == "POST" and form.is_valid():
        try:
            user = services.accept_invitation(token, form.details())
        except services.InvitationUnavailable as unavailable:
            return _invitation_unavailable(request, unavailable)
        except services.EmailAlreadyRegistered:
            return _invitation_account_exists(request, invitation.email)
        login(request, user, backend=_BACKEND)
        messages.success(request, "Your account is ready. Welcome!")
        return redirect(user.get_home_url())
    return render(
        request, "accounts/invitation_accept.html", {"form": form, "invitation": invitation}
    )


def _invitation_unavailable(
    request: HttpRequest, unavailable: services.InvitationUnavailable
) -> HttpResponse:
    status = 404 if unavailable.reason == unavailable.UNKNOWN else 410
    return render(
        request,
        "accounts/invitation_unavailable.html",
        {"reason": unavailable.reason},
        status=status,
    )


def _invitation_account_exists(request: HttpRequest, email: str) -> HttpResponse:
    # The inviter typed this address, so naming it reveals nothing new to the holder of the link.
    return render(request, "accounts/invitation_account_exists.html", {"email": email})
