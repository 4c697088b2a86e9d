from __future__ import annotations

import datetime
import uuid
import zoneinfo
from typing import Any, ClassVar

from django.contrib.auth.models import AbstractUser, BaseUserManager
from django.db import models
from django.db.models.functions import Lower
from django.urls import reverse


class Role(models.TextChoices):
    PATIENT = "patient", "Patient"
    FRONT_DESK = "front_desk", "Front desk"
    NURSE = "nurse", "Nurse"
    CLINICIAN = "clinician", "Clinician"
    CLINIC_ADMIN = "clinic_admin", "Clinic administrator"


HOME_URL_NAMES = {
    Role.PATIENT: "scheduling:patient_home",
    Role.FRONT_DESK: "scheduling:desk",
    Role.NURSE: "charting:day",
    Role.CLINICIAN: "review:queue",
    Role.CLINIC_ADMIN: "accounts:home_clinic_admin",
}

STAFF_ROLES = frozenset({Role.FRONT_DESK, Role.NURSE, Role.CLINICIAN, Role.CLINIC_ADMIN})
# The roles a clinic admin may give in a staff invitation, in the order the form lists them.
# Superuser is not a role: it is granted only from the command line (createsuperuser).
INVITABLE_STAFF_ROLES = [Role.CLINIC_ADMIN, Role.FRONT_DESK, Role.CLINICIAN, Role.NURSE]


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def _create_user(self, email: str, password: str | None, **extra: Any) -> User:
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **extra: Any) -> User:
        extra.setdefault("is_superuser", False)
        extra.setdefault("is_staff", False)
        return self._create_user(email, password, **extra)

    def create_superuser(self, email: str, password: str | None = None, **extra: Any) -> User:
        extra.setdefault("role", Role.CLINIC_ADMIN)
        extra["is_superuser"] = True
        extra["is_staff"] = True
        return self._create_user(email, password, **extra)

    def get_by_natural_key(self, username: str | None) -> User:
        # Emails are compared case-insensitively: people type them both ways.
        return self.get(email__iexact=username)


class User(AbstractUser):
    """A person who signs in: a patient or a member of staff, told apart by `role`.

    Staff members belong to one or more locations; that membership decides, for example, which
    clinicians are alerted about an urgent flag raised at a location.
    """

    username = None  # type: ignore[assignment]  # no usernames: staff and patients sign in by email
    email = models.EmailField("email address", unique=True)
    public_id = models.UUIDField(default=uuid.uuid4, editable=False, unique=True)
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.PATIENT)
    locations = models.ManyToManyField(
        "locations.Location",
        blank=True,
        related_name="staff",
        help_text="Locations where this staff member works.",
    )

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    objects = UserManager()  # type: ignore[misc, assignment]  # ours creates users by email

    class Meta:
        constraints = [
            models.UniqueConstraint(Lower("email"), name="user_email_ci_unique"),
        ]

    def __str__(self) -> str:
        return self.get_full_name() or self.email

    @property
    def record_number(self) -> str:
        """A short number for paper records and phone calls: stable for the person's life in
        the system, unlike a name, and shorter than the public UUID."""
        return f"P{self.pk:07d}"

    @property
    def is_clinic_staff(self) -> bool:
        """Staff roles need a second factor and have shorter sessions than patients."""
        return self.role in STAFF_ROLES

    def save(self, *args: Any, **kwargs: Any) -> None:
        """Clinic administrators manage the configuration in the Django admin, through the
        "Clinic administrators" group's permissions (never as superusers by default)."""
        if self.role == Role.CLINIC_ADMIN:
            self.is_staff = True
        super().save(*args, **kwargs)
        if self.role == Role.CLINIC_ADMIN:
            from accounts.permissions import clinic_admin_group

            self.groups.add(clinic_admin_group())

    def get_home_url(self) -> str:
        """Each role lands on the page where its daily work starts."""
        return reverse(HOME_URL_NAMES[Role(self.role)])

    def time_zone(self) -> zoneinfo.ZoneInfo:
        """The zone a staff page shows times in when they belong to no one location.

        Times are read where the clinic is (docs/security.md names UTC for exports only): the
        zone of the first location this person works at, else of the clinic's first active
        location, else UTC on a site with no location yet.
        """
        from locations.models import Location

        first = self.locations.order_by("pk").first()
        return first.zone if first else Location.default_zone()


class PatientProfile(models.Model):
    """Contact details and communication choices of a patient, kept current from the intake.

    The front desk sees this (not the questionnaire answers); reminders read the channel choices
    and the time of SMS consent from here.
    """

    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="patient_profile")
    date_of_birth = models.DateField()
    preferred_name = models.CharField(max_length=100, blank=True)
    mobile_phone = models.CharField(max_length=32, blank=True)
    preferred_location = models.ForeignKey(
        "locations.Location", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    preferred_language = models.CharField(max_length=40, blank=True)
    email_reminders = models.BooleanField(default=True)
    sms_reminders = models.BooleanField(default=False)
    sms_consent_at = models.DateTimeField(null=True, blank=True)
    sms_withdrawn_at = models.DateTimeField(
        null=True, blank=True, help_text="When consent to texts was last withdrawn."
    )
    sms_consent_source = models.CharField(
        max_length=100,
        blank=True,
        help_text="Where the last change of consent to texts came from (a reply STOP ...).",
    )
    email_verified_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(sms_reminders=False) | models.Q(sms_consent_at__isnull=False),
                name="patient_sms_needs_consent",
            ),
        ]
        indexes = [
            # Inbound texts: the patients of the number that wrote (accounts.consent, replies).
            models.Index(fields=["mobile_phone"], name="patient_profile_mobile"),
        ]

    def __str__(self) -> str:
        return f"Patient profile of {self.user}"


class Invitation(models.Model):
    """An expiring, single-use invitation: the front desk invites a patient to register, a clinic
    admin invites a member of staff (with the role they will have).

    Its link's token is minted when the email is sent (accounts.emails) and kept as a LinkToken,
    by hash only: a leaked database does not leak working links.
    """

    email = models.EmailField()
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.PATIENT)
    first_name = models.CharField(max_length=100, blank=True)
    last_name = models.CharField(max_length=150, blank=True)
    invited_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    location = models.ForeignKey(
        "locations.Location", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    used_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Invitation for {self.email}"

    @property
    def is_for_staff(self) -> bool:
        return self.role in STAFF_ROLES


class TokenPurpose(models.TextChoices):
    VERIFY_EMAIL = "verify_email", "Email verification"
    INVITATION = "invitation", "Invitation"
    PASSWORD_RESET = "password_reset", "Password reset"


class LinkTokenQuerySet(models.QuerySet["LinkToken"]):
    def usable(self, now: datetime.datetime) -> LinkTokenQuerySet:
        """Not used and not expired at `now`: the one rule of a link that still works."""
        return self.filter(used_at__isnull=True, expires_at__gt=now)


class LinkToken(models.Model):
    """The token of one emailed link (verification, invitation, password reset), by hash only.

    The raw token (`secrets.token_urlsafe(32)`, 256 bits) is minted when the email is sent and
    exists only in that email: the database keeps its SHA-256, which opens nothing (a random
    token of that size needs no salt or slow hash; OWASP Forgot Password Cheat Sheet). A link
    works once, until `expires_at`: it is used by a conditional UPDATE of `used_at` whose row count
    is checked, so two clicks at once cannot both use it.
    """

    purpose = models.CharField(max_length=20, choices=TokenPurpose.choices)
    token_hash = models.CharField(max_length=64, unique=True)
    user = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.CASCADE, related_name="link_tokens"
    )
    invitation = models.ForeignKey(
        Invitation, null=True, blank=True, on_delete=models.CASCADE, related_name="tokens"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    objects = LinkTokenQuerySet.as_manager()

    class Meta:
        constraints = [
            # An invitation's link names the invitation (there is no account yet); the others
            # name the account they act on.
            models.CheckConstraint(
                condition=(
                    models.Q(purpose="invitation", invitation__isnull=False, user__isnull=True)
                    | (
                        ~models.Q(purpose="invitation")
                        & models.Q(invitation__isnull=True, user__isnull=False)
                    )
                ),
                name="link_token_names_its_subject",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_purpose_display()} link ({'used' if self.used_at else 'not used'})"
