"""Views of the accounts app: role homes, patient registration and front-desk invitations."""

from __future__ import annotations

import datetime as dt
from base64 import b32encode
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import PasswordResetForm, SetPasswordForm
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme, urlsafe_base64_decode
from django.utils.translation import gettext
from django.views.decorators.http import require_http_methods

from accounts import emails, language, lockout, security, services
from accounts.access import role_required
from accounts.forms import (
    ChoosePasswordForm,
    CodeForm,
    InvitationAcceptForm,
    InvitationForm,
    LoginForm,
    RegistrationForm,
    ResendVerificationForm,
    StaffInvitationAcceptForm,
    StaffInvitationForm,
)
from accounts.links import LinkUnavailable
from accounts.models import Invitation, Role, User
from accounts.requests import AuthenticatedRequest
from locations.models import Location, NurseShift


@login_required
def home(request: AuthenticatedRequest) -> HttpResponse:
    return redirect(request.user.get_home_url())


@role_required(Role.NURSE)
def nurse_home(request: AuthenticatedRequest) -> HttpResponse:
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
        messages.info(request, gettext("You are already signed in."))
        return redirect(request.user.get_home_url())
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
            messages.success(
                request, gettext("Thank you, your email address is confirmed. Welcome!")
            )
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
def invite(request: AuthenticatedRequest) -> HttpResponse:
    form = InvitationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        invitation = services.create_invitation(
            email=form.cleaned_data["email"],
            first_name=form.cleaned_data["first_name"],
            location=form.cleaned_data["location"],
            invited_by=request.user,
        )
        messages.success(
            request,
            f"Invitation sent to {invitation.email}. "
            f"The link works for {services.INVITATION_LIFETIME.days} days.",
        )
        return redirect("accounts:invite")
    invitations = (
        Invitation.objects.filter(role=Role.PATIENT)
        .select_related("location")
        .order_by("-created_at")[:20]
    )
    return render(
        request,
        "accounts/invite.html",
        {
            "form": form,
            "invitations": invitations,
            "now": timezone.now(),
            "zone": request.user.time_zone(),
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
    if invitation.is_for_staff:
        return _accept_staff_invitation(request, token, invitation)
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
        messages.success(request, gettext("Your account is ready. Welcome!"))
        return redirect(user.get_home_url())
    return render(
        request, "accounts/invitation_accept.html", {"form": form, "invitation": invitation}
    )


def _accept_staff_invitation(
    request: HttpRequest, token: str, invitation: Invitation
) -> HttpResponse:
    """Staff choose their password, then go straight on to enrol the second factor: the new
    account is not signed in before that (the same pending stage as after a password)."""
    form = StaffInvitationAcceptForm(
        request.POST or None,
        invited_email=invitation.email,
        initial={"first_name": invitation.first_name, "last_name": invitation.last_name},
    )
    if request.method == "POST" and form.is_valid():
        try:
            user = services.accept_staff_invitation(token, form.details())
        except services.InvitationUnavailable as unavailable:
            return _invitation_unavailable(request, unavailable)
        except services.EmailAlreadyRegistered:
            return _invitation_account_exists(request, invitation.email)
        security.begin_second_factor(request, user, _BACKEND)
        return redirect("accounts:mfa")
    return render(
        request, "accounts/staff_invitation_accept.html", {"form": form, "invitation": invitation}
    )


@role_required(Role.CLINIC_ADMIN)
@require_http_methods(["GET", "POST"])
def invite_staff(request: AuthenticatedRequest) -> HttpResponse:
    """Clinic admins invite staff with a role from a fixed list; the invitee sets the password."""
    form = StaffInvitationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        invitation = services.create_invitation(
            email=form.cleaned_data["email"],
            first_name=form.cleaned_data["first_name"],
            last_name=form.cleaned_data["last_name"],
            location=form.cleaned_data["location"],
            invited_by=request.user,
            role=form.cleaned_data["role"],
        )
        messages.success(request, f"Invitation sent to {invitation.email}.")
        return redirect("accounts:invite_staff")
    invitations = Invitation.objects.exclude(role=Role.PATIENT).order_by("-created_at")[:20]
    return render(
        request,
        "accounts/staff_invite.html",
        {
            "form": form,
            "invitations": invitations,
            "now": timezone.now(),
            "zone": request.user.time_zone(),
            "lifetime_days": services.INVITATION_LIFETIME.days,
        },
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


# --- Sign-in in two stages, session time-out, lockouts -------------------------------------------


class LoginView(auth_views.LoginView):
    """Django's sign-in page, except that for staff the password is only the first stage.

    A member of staff is not logged in here: the session keeps them as pending
    (accounts.security) and `/mfa/` logs them in once the second factor passes.
    """

    authentication_form = LoginForm
    redirect_authenticated_user = True

    def form_valid(self, form: LoginForm) -> HttpResponse:  # type: ignore[override]  # ours
        user = form.get_user()
        if not user.is_clinic_staff:
            return super().form_valid(form)
        security.begin_second_factor(self.request, user, user.backend)
        target = self.get_redirect_url()
        query = f"?{urlencode({'next': target})}" if target else ""
        return redirect(reverse("accounts:mfa") + query)


def _safe_next(request: HttpRequest, user: User) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    # A path of this site only (redirect() would take "0" for a view name).
    if target.startswith("/") and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return user.get_home_url()


@require_http_methods(["GET", "POST"])
def mfa(request: HttpRequest) -> HttpResponse:
    """The second stage: enrol an authenticator once, then a code (or a recovery code) each time.

    Wrong codes count in the lockout like wrong passwords; a locked account's right code is
    refused too.
    """
    if request.user.is_authenticated:
        return HttpResponseRedirect(_safe_next(request, request.user))
    waiting = security.pending(request)
    if waiting is None:
        return redirect("accounts:login")
    user = waiting.user
    if lockout.is_locked(request, user.email):
        # As axes' backend does for a password during a lockout: a submitted code counts too;
        # opening the page submits nothing.
        if request.method == "POST":
            lockout.record_failure(request, user.email)
        return lockout.lockout_response(request)
    device = security.authenticator(user)
    enrolling = device is None
    if device is None:
        device = security.enrolment_device(user)
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        code = form.cleaned_data["code"]
        if enrolling:
            recovery = security.confirm_enrolment(device, code)
            if recovery is not None:
                security.complete_sign_in(request, waiting, device)
                return render(
                    request,
                    "accounts/mfa_recovery.html",
                    {"codes": recovery, "next": _safe_next(request, user)},
                )
        elif (verified := security.verify(user, code)) is not None:
            security.complete_sign_in(request, waiting, verified)
            return HttpResponseRedirect(_safe_next(request, user))
        # Counted like a wrong password; at the limit axes' middleware answers with the lockout.
        lockout.record_failure(request, user.email)
        form.add_error(
            "code",
            "That code is not right. Check the time on your phone, wait a few seconds and try "
            "again.",
        )
    context = {"form": form, "enrolling": enrolling, "next": request.GET.get("next", "")}
    if enrolling:
        import qrcode
        import qrcode.image.svg

        image = qrcode.make(device.config_url, image_factory=qrcode.image.svg.SvgPathImage)
        context.update(
            secret=b32encode(device.bin_key).decode(), qr=image.to_string(encoding="unicode")
        )
    return render(request, "accounts/mfa.html", context)


# --- Password reset ------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def password_reset(request: HttpRequest) -> HttpResponse:
    """The same answer whether or not the address has an account: the email, if any, is an
    outbox row the worker sends (services.request_password_reset)."""
    form = PasswordResetForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        services.request_password_reset(form.cleaned_data["email"])
        return redirect("accounts:password_reset_done")
    return render(request, "registration/password_reset_form.html", {"form": form})


def _account_named_by(uidb64: str) -> User | None:
    try:
        pk = int(urlsafe_base64_decode(uidb64).decode())
    except (ValueError, UnicodeDecodeError):
        return None
    return User.objects.filter(pk=pk).first()


@require_http_methods(["GET", "POST"])
def password_reset_confirm(request: HttpRequest, uidb64: str, token: str) -> HttpResponse:
    """Choosing a new password from an emailed link, inside the lockout.

    GET shows the form and changes nothing (mail scanners use up nothing); a valid POST uses the
    link once. A token posted that is no reset link of the account the address names (a guess)
    counts as a failed sign-in for that account; while the account or the address is locked,
    setting a password is refused. Opening a link counts for nothing, guessed or not: an <img>
    of a guessed link on any page would make every visitor's browser lock the account. A used
    or expired link is genuine and counts for nothing.
    """
    user = _account_named_by(uidb64)
    username = user.email if user is not None else None
    try:
        link = services.reset_link(user, token)
    except LinkUnavailable as unavailable:
        if unavailable.reason == unavailable.UNKNOWN and request.method == "POST":
            lockout.record_failure(request, username)
        return _reset_unavailable(request, unavailable)
    if request.method == "POST" and lockout.is_locked(request, username):
        return lockout.lockout_response(request)
    assert link.user is not None  # reset_link
    form = SetPasswordForm(link.user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.reset_password(link.user, token, form.cleaned_data["new_password1"])
        except LinkUnavailable as unavailable:  # used a moment ago, in another tab
            return _reset_unavailable(request, unavailable)
        return redirect("accounts:password_reset_complete")
    return render(
        request, "registration/password_reset_confirm.html", {"form": form, "validlink": True}
    )


def _reset_unavailable(request: HttpRequest, unavailable: LinkUnavailable) -> HttpResponse:
    return render(
        request,
        "registration/password_reset_confirm.html",
        {
            "validlink": False,
            "reason": unavailable.reason,
            "hours": round(emails.password_reset_lifetime() / dt.timedelta(hours=1)),
        },
        status=404 if unavailable.reason == unavailable.UNKNOWN else 410,
    )


@login_required
def session_status(request: AuthenticatedRequest) -> HttpResponse:
    """Seconds left before a staff session ends (read by the idle warning; does not extend it)."""
    import time

    if not request.user.is_clinic_staff:
        return JsonResponse({"remaining": None})
    last_seen = request.session.get(security.LAST_SEEN_KEY, time.time())
    remaining = max(0, int(settings.STAFF_IDLE_SECONDS - (time.time() - last_seen)))
    return JsonResponse({"remaining": remaining})


@login_required
@require_http_methods(["POST"])
def keep_alive(request: HttpRequest) -> HttpResponse:
    return JsonResponse({"ok": True})  # the middleware has just recorded the activity


@role_required(Role.CLINIC_ADMIN)
@require_http_methods(["GET", "POST"])
def locked_accounts(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        username = request.POST.get("username", "")
        address = request.POST.get("ip_address", "")
        if lockout.unlock(username=username, ip_address=address):
            messages.success(request, f"{username or address} can sign in again.")
        return redirect("accounts:locked")
    return render(request, "accounts/locked.html", {"locked": lockout.locked_accounts()})


# --- Language ------------------------------------------------------------------------------------


@require_http_methods(["POST"])
def set_language(request: HttpRequest) -> HttpResponse:
    """The language switch on every patient page (signed in or not): sets the language cookie,
    stores a signed-in patient's choice, and returns to the page it was posted from."""
    target = request.POST.get("next", "")
    if not (
        target.startswith("/")
        and url_has_allowed_host_and_scheme(
            target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        )
    ):
        target = reverse("accounts:home")
    response = redirect(target)
    code = language.supported(request.POST.get("language"))
    if code is None:
        return response
    language.choose(request, code)
    language.remember(request, response, code)
    return response
