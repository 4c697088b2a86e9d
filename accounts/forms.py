"""Forms of the accounts app. They validate and normalise; the workflows live in services."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import password_validation
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _

from accounts.models import INVITABLE_STAFF_ROLES, Role, User
from accounts.services import PatientDetails, PersonalDetails, StaffDetails
from accounts.validators import validate_adult_birth_date
from locations.models import Location


class LoginForm(AuthenticationForm):
    """Email and password. A locked account or address is refused by django-axes' backend
    (settings.AUTHENTICATION_BACKENDS), which answers with the lockout page."""

    username = forms.EmailField(
        label=_("Email address"),
        widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email"}),
    )


class CodeForm(forms.Form):
    code = forms.CharField(
        label=_("Code"),
        max_length=20,
        help_text=_("The 6-digit code from your authenticator app, or one of your recovery codes."),
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}
        ),
    )


def _email_field(**kwargs: Any) -> forms.EmailField:
    return forms.EmailField(
        label=_("Email address"),
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
        **kwargs,
    )


class PersonalDetailsForm(forms.Form):
    """Name and date of birth: what both ways of registering ask for.

    Adults only (docs/product-rules.md#who-the-clinics-treat); the intake's own validator gives
    the same message here as in the questionnaire.
    """

    first_name = forms.CharField(
        label=_("First name"),
        max_length=150,
        widget=forms.TextInput(attrs={"autocomplete": "given-name"}),
    )
    last_name = forms.CharField(
        label=_("Last name"),
        max_length=150,
        widget=forms.TextInput(attrs={"autocomplete": "family-name"}),
    )
    date_of_birth = forms.DateField(
        label=_("Date of birth"),
        widget=forms.DateInput(attrs={"type": "date", "autocomplete": "bday"}, format="%Y-%m-%d"),
        validators=[validate_adult_birth_date],
        error_messages={"invalid": _("Enter your date of birth as a date, e.g. 1980-01-31.")},
    )

    def personal_details(self) -> PersonalDetails:
        return PersonalDetails(
            first_name=self.cleaned_data["first_name"].strip(),
            last_name=self.cleaned_data["last_name"].strip(),
            date_of_birth=self.cleaned_data["date_of_birth"],
        )


class NewPasswordForm(forms.Form):
    """A new password typed twice and checked by Django's validators, like `SetPasswordForm`."""

    password1 = forms.CharField(
        label=_("Password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=password_validation.password_validators_help_text_html(),
    )
    password2 = forms.CharField(
        label=_("Password again"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=_("Type the same password again, to be sure it is the one you meant."),
    )

    def user_for_password_check(self, cleaned: dict[str, Any]) -> User:
        """The account the password is for, for the similarity check with its name and email."""
        raise NotImplementedError

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        password1, password2 = cleaned.get("password1"), cleaned.get("password2")
        if password1 and password2 and password1 != password2:
            self.add_error("password2", _("The two passwords are not the same."))
        elif password1:
            try:
                password_validation.validate_password(
                    password1, self.user_for_password_check(cleaned)
                )
            except forms.ValidationError as error:
                self.add_error("password1", error)
        return cleaned

    @property
    def password(self) -> str:
        return str(self.cleaned_data["password1"])


class RegistrationForm(PersonalDetailsForm):
    """Self sign-up. It never says whether the email is taken: that would leak who is a patient.

    It asks for no password: that is chosen on the page the emailed link opens, so only the owner
    of the address ever sets one (see accounts.services).
    """

    email = _email_field(help_text=_("We will send a link to this address to confirm it is yours."))

    field_order = ["first_name", "last_name", "email", "date_of_birth"]

    def clean_email(self) -> str:
        return str(self.cleaned_data["email"]).strip().lower()


class ChoosePasswordForm(NewPasswordForm):
    """The page a verification link opens: the patient chooses their password there."""

    def __init__(self, user: User, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user

    def user_for_password_check(self, cleaned: dict[str, Any]) -> User:
        return self.user


class InvitationAcceptForm(PersonalDetailsForm, NewPasswordForm):
    """Registration through an invitation: the email is the invited one, shown but not editable."""

    email = _email_field(
        disabled=True, required=False, help_text=_("The address we sent the link to.")
    )

    field_order = ["email", "first_name", "last_name", "date_of_birth", "password1", "password2"]

    def __init__(self, *args: Any, invited_email: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.invited_email = invited_email
        self.fields["email"].initial = invited_email

    def user_for_password_check(self, cleaned: dict[str, Any]) -> User:
        # An unsaved user lets the similarity validator compare with the name and email.
        return User(
            email=self.invited_email,
            first_name=cleaned.get("first_name", ""),
            last_name=cleaned.get("last_name", ""),
        )

    def details(self) -> PatientDetails:
        personal = self.personal_details()
        return PatientDetails(
            first_name=personal.first_name,
            last_name=personal.last_name,
            date_of_birth=personal.date_of_birth,
            password=self.password,
        )


class ResendVerificationForm(forms.Form):
    email = _email_field()


class InvitationForm(forms.Form):
    """The front desk invites a patient by email; staff typed the address, so say if it is taken."""

    email = _email_field(help_text=_("The invitation link is sent here."))
    first_name = forms.CharField(
        label=_("First name (optional)"),
        max_length=100,
        required=False,
        help_text=_("Used to greet the patient in the email."),
    )
    location = forms.ModelChoiceField(
        label=_("Location (optional)"),
        queryset=Location.objects.filter(is_active=True),
        required=False,
        empty_label=_("No preference yet"),
        help_text=_("Saved as the patient's preferred location."),
    )

    def clean_email(self) -> str:
        email: str = self.cleaned_data["email"].strip().lower()
        if User.objects.filter(email__iexact=email).exists():
            raise forms.ValidationError(
                _(
                    "This address already has an account. The patient can sign in, or reset their "
                    "password from the sign-in page."
                )
            )
        return email


class StaffInvitationForm(forms.Form):
    """A clinic admin invites a member of staff, with a role from the fixed list (no superuser)."""

    email = _email_field(help_text=_("The invitation link is sent here."))
    first_name = forms.CharField(label=_("First name"), max_length=100)
    last_name = forms.CharField(label=_("Last name"), max_length=150)
    role = forms.ChoiceField(
        label=_("Role"),
        choices=[("", _("Choose a role"))]
        + [(role.value, role.label) for role in INVITABLE_STAFF_ROLES],
    )
    location = forms.ModelChoiceField(
        label=_("Location (optional)"),
        queryset=Location.objects.filter(is_active=True),
        required=False,
        empty_label=_("None yet"),
        help_text=_("Where they will work; more can be added later in Settings."),
    )

    def clean_email(self) -> str:
        email: str = self.cleaned_data["email"].strip().lower()
        if User.objects.filter(email__iexact=email).exists():
            raise forms.ValidationError(_("This address already has an account."))
        return email

    def clean_role(self) -> Role:
        return Role(self.cleaned_data["role"])


class StaffInvitationAcceptForm(NewPasswordForm):
    """A member of staff accepts: their name and a password (the second factor comes next)."""

    email = _email_field(
        disabled=True, required=False, help_text=_("The address we sent the link to.")
    )
    first_name = forms.CharField(
        label=_("First name"),
        max_length=150,
        widget=forms.TextInput(attrs={"autocomplete": "given-name"}),
    )
    last_name = forms.CharField(
        label=_("Last name"),
        max_length=150,
        widget=forms.TextInput(attrs={"autocomplete": "family-name"}),
    )

    field_order = ["email", "first_name", "last_name", "password1", "password2"]

    def __init__(self, *args: Any, invited_email: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.invited_email = invited_email
        self.fields["email"].initial = invited_email

    def user_for_password_check(self, cleaned: dict[str, Any]) -> User:
        return User(
            email=self.invited_email,
            first_name=cleaned.get("first_name", ""),
            last_name=cleaned.get("last_name", ""),
        )

    def details(self) -> StaffDetails:
        return StaffDetails(
            first_name=self.cleaned_data["first_name"].strip(),
            last_name=self.cleaned_data["last_name"].strip(),
            password=self.password,
        )
