"""The clinic's one price list: what each service costs at each location, line by line.

A service (an infusion, an evaluation, a follow-up, a booster) is billed as one or more lines,
each with its procedure or supply code, units and charge: an infusion is typically the first hour
of infusion, each further hour and the drug. The payments, the Good Faith Estimates and the
superbills all read these lines (`billing.prices`); nothing else holds a price.

A price is never edited in place: a change ends the current line (`valid_until`) and starts a new
one, so what a booking was shown stays readable, and a change applies to new bookings only.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from billing.money import Money


class Service(models.TextChoices):
    INFUSION = "infusion", _("Infusion")
    EVALUATION = "evaluation", _("Evaluation visit")
    FOLLOW_UP = "follow_up", _("Follow-up visit")
    BOOSTER = "booster", _("Booster infusion")


class PriceLine(models.Model):
    """One billable line of a service at a location, in force from `valid_from` until replaced."""

    public_id = models.UUIDField(default=uuid.uuid4, editable=False, unique=True)
    location = models.ForeignKey(
        "locations.Location", on_delete=models.PROTECT, related_name="price_lines"
    )
    service = models.CharField(max_length=20, choices=Service.choices)
    code = models.CharField(
        max_length=10, help_text="Procedure or supply code billed for this line, e.g. 96365."
    )
    description = models.CharField(max_length=200, help_text="The clinic's own words for it.")
    units = models.PositiveSmallIntegerField(default=1)
    amount = models.PositiveIntegerField(help_text="The line's charge in minor units (cents).")
    currency = models.CharField(max_length=3, default="USD")
    position = models.PositiveSmallIntegerField(default=0)
    valid_from = models.DateTimeField(default=timezone.now)
    valid_until = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["location", "service", "position", "valid_from"]
        constraints = [
            models.CheckConstraint(
                condition=Q(currency__regex=r"^[A-Z]{3}$"), name="price_line_currency_iso"
            ),
            models.CheckConstraint(
                condition=Q(valid_until__isnull=True) | Q(valid_until__gt=F("valid_from")),
                name="price_line_validity_order",
            ),
            models.CheckConstraint(condition=Q(units__gte=1), name="price_line_units_positive"),
        ]
        indexes = [models.Index(fields=["location", "service", "valid_from"])]

    def __str__(self) -> str:
        return f"{self.location} {self.service} {self.code} ×{self.units}"


class Appointment(models.TextChoices):
    """What a charge or an accepted policy is about: a generic reference (kind + public id), so
    that a clinician's visit can be charged like a session (docs/payments.md#appointments)."""

    SERIES = "series", _("Series")
    SESSION = "session", _("Session")
    VISIT = "visit", _("Visit")
    CREDIT = "credit", _("Package")


class FeePolicy(models.Model):
    """A location's deposits and fees, in force from `valid_from` until replaced (never edited,
    like a price line): a change applies to new bookings only (docs/payments.md#settings)."""

    location = models.ForeignKey(
        "locations.Location", on_delete=models.PROTECT, related_name="fee_policies"
    )
    currency = models.CharField(max_length=3, default="USD")
    deposit_infusion = models.PositiveIntegerField(
        default=0, help_text="Taken when an infusion series is booked online, in cents (0: none)."
    )
    deposit_visit = models.PositiveIntegerField(
        default=0, help_text="Taken when a visit is booked online, in cents (0: none)."
    )
    require_payment_online = models.BooleanField(
        default=False,
        help_text="An online series is confirmed only with a package or a paid deposit.",
    )
    late_cancel_fee = models.PositiveIntegerField(default=0)
    late_cancel_window_hours = models.PositiveSmallIntegerField(default=24)
    no_show_fee = models.PositiveIntegerField(default=0)
    grace_hours = models.PositiveSmallIntegerField(
        default=48, help_text="How long after a late cancellation or no-show the fee is charged."
    )
    valid_from = models.DateTimeField(default=timezone.now)
    valid_until = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["location", "valid_from"]
        constraints = [
            models.CheckConstraint(
                condition=Q(currency__regex=r"^[A-Z]{3}$"), name="fee_policy_currency_iso"
            ),
            # At most one policy in force per location.
            models.UniqueConstraint(
                fields=["location"],
                condition=Q(valid_until__isnull=True),
                name="fee_policy_one_current",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.location} fees from {self.valid_from:%Y-%m-%d}"


class Package(models.Model):
    """N sessions of a service paid ahead at one price, usable until `expiry_days` after the
    purchase; unused sessions are refunded at the package's own per-session price."""

    public_id = models.UUIDField(default=uuid.uuid4, editable=False, unique=True)
    location = models.ForeignKey(
        "locations.Location", on_delete=models.PROTECT, related_name="packages"
    )
    name = models.CharField(max_length=100)
    service = models.CharField(max_length=20, choices=Service.choices, default=Service.INFUSION)
    sessions = models.PositiveSmallIntegerField()
    amount = models.PositiveIntegerField(help_text="The package's price in cents.")
    currency = models.CharField(max_length=3, default="USD")
    expiry_days = models.PositiveSmallIntegerField(default=180)
    valid_from = models.DateTimeField(default=timezone.now)
    valid_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["location", "name"]
        constraints = [
            models.CheckConstraint(condition=Q(sessions__gte=1), name="package_sessions_positive"),
            models.CheckConstraint(condition=Q(amount__gte=1), name="package_amount_positive"),
        ]

    def __str__(self) -> str:
        return self.name

    def session_value(self) -> int:
        """What one session of the package is worth: the refund rule for unused sessions."""
        return self.amount // self.sessions


class AcceptedPolicy(models.Model):
    """The prices and cancellation terms shown when an appointment was booked, kept as shown.

    Immutable: PostgreSQL refuses an UPDATE or DELETE of these rows (migration 0003), so a later
    price change can never alter what a patient accepted (docs/payments.md#the-accepted-policy).
    """

    public_id = models.UUIDField(default=uuid.uuid4, editable=False, unique=True)
    appointment_kind = models.CharField(max_length=10, choices=Appointment.choices)
    appointment_id = models.UUIDField()
    patient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    location = models.ForeignKey("locations.Location", on_delete=models.PROTECT, related_name="+")
    service = models.CharField(max_length=20, choices=Service.choices)
    currency = models.CharField(max_length=3)
    lines = models.JSONField(
        help_text="The price lines as shown: code, description, units, amount."
    )
    session_price = models.PositiveIntegerField()
    deposit = models.PositiveIntegerField(default=0)
    late_cancel_fee = models.PositiveIntegerField(default=0)
    late_cancel_window_hours = models.PositiveSmallIntegerField()
    no_show_fee = models.PositiveIntegerField(default=0)
    grace_hours = models.PositiveSmallIntegerField()
    language = models.CharField(max_length=10)
    wording = models.TextField(help_text="The policy as the patient read it, in their language.")
    accepted_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["appointment_kind", "appointment_id"], name="accepted_policy_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.appointment_kind} {self.appointment_id}"


class Customer(models.Model):
    """The patient's Stripe customer: an opaque id, nothing else about them goes to Stripe."""

    patient = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="stripe_customer"
    )
    stripe_id = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return self.stripe_id


class Card(models.Model):
    """A card on file: Stripe's payment method id with its brand and last four, never the
    number (the card form is Stripe's own)."""

    public_id = models.UUIDField(default=uuid.uuid4, editable=False, unique=True)
    patient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    stripe_payment_method = models.CharField(max_length=64, unique=True)
    brand = models.CharField(max_length=20)
    last4 = models.CharField(max_length=4)
    exp_month = models.PositiveSmallIntegerField()
    exp_year = models.PositiveSmallIntegerField()
    added_at = models.DateTimeField(default=timezone.now)
    removed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-added_at"]
        # The patient's current card: `Card.objects.filter(patient=…, removed_at=None)`.
        indexes = [models.Index(fields=["patient", "removed_at"])]

    def __str__(self) -> str:
        return f"{self.brand} •••• {self.last4}"


class ChargeState(models.TextChoices):
    SCHEDULED = "scheduled", _("Due after the grace period")
    OPEN = "open", _("Awaiting payment")
    PENDING = "pending", _("Queued for the card on file")
    SUBMITTING = "submitting", _("Sent to the card")
    REQUIRES_ACTION = "requires_action", _("Needs the patient to confirm")
    SUCCEEDED = "succeeded", _("Paid")
    FAILED = "failed", _("Declined")
    WAIVED = "waived", _("Waived")
    CREDITED = "credited", _("Paid from package credit")


class Purpose(models.TextChoices):
    APPOINTMENT = "appointment", _("Appointment")
    LATE_CANCEL = "late_cancel", _("Late cancellation fee")
    NO_SHOW = "no_show", _("No-show fee")
    DEPOSIT = "deposit", _("Deposit")
    PACKAGE = "package", _("Package")


class Charge(models.Model):
    """One amount the clinic asks of a patient, and where collecting it stands.

    `purpose` + the appointment reference are unique: an appointment is charged once, its fee
    once, whatever retries, double clicks or two workers do. Every Stripe call for it carries the
    idempotency key `charge:<public_id>` (docs/payments.md#idempotency). This row's `state` moves
    forward by conditional updates; money itself is recorded only in the ledger.
    """

    public_id = models.UUIDField(default=uuid.uuid4, editable=False, unique=True)
    patient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    location = models.ForeignKey("locations.Location", on_delete=models.PROTECT, related_name="+")
    purpose = models.CharField(max_length=20, choices=Purpose.choices)
    appointment_kind = models.CharField(max_length=10, choices=Appointment.choices)
    appointment_id = models.UUIDField()
    amount = models.PositiveIntegerField()
    currency = models.CharField(max_length=3)
    state = models.CharField(max_length=20, choices=ChargeState.choices)
    due_at = models.DateTimeField(default=timezone.now)
    stripe_payment_intent = models.CharField(max_length=64, null=True, blank=True, unique=True)
    failure = models.CharField(max_length=300, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["purpose", "appointment_kind", "appointment_id"], name="charge_once"
            ),
            models.CheckConstraint(condition=Q(amount__gte=1), name="charge_amount_positive"),
        ]
        indexes = [
            # charge_due_fees and the reconciliation: charges by state and due time.
            models.Index(fields=["state", "due_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.purpose} {self.public_id}"

    def idempotency_key(self) -> str:
        """`charge:<uuid>` for the first attempt; a new attempt the desk asks for after a
        decline (`attempts`) gets its own, since Stripe would replay the decline for the old one.
        A retry after Stripe was unreachable keeps the key: Stripe may have charged already."""
        suffix = f":{self.attempts}" if self.attempts else ""
        return f"charge:{self.public_id}{suffix}"

    def money(self) -> Money:
        return Money(self.amount, self.currency)


class Credit(models.Model):
    """A package bought by a patient: its sessions, until it expires."""

    public_id = models.UUIDField(default=uuid.uuid4, editable=False, unique=True)
    patient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    package = models.ForeignKey(Package, on_delete=models.PROTECT, related_name="+")
    location = models.ForeignKey("locations.Location", on_delete=models.PROTECT, related_name="+")
    sessions = models.PositiveSmallIntegerField()
    used = models.PositiveSmallIntegerField(default=0)
    session_value = models.PositiveIntegerField()
    currency = models.CharField(max_length=3)
    bought_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    paid = models.BooleanField(default=False)
    refunded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["expires_at"]
        constraints = [
            models.CheckConstraint(condition=Q(used__lte=F("sessions")), name="credit_not_overused")
        ]

    def __str__(self) -> str:
        return f"{self.package_id} ×{self.sessions}"

    def remaining(self) -> int:
        return self.sessions - self.used


class Entry(models.TextChoices):
    CHARGE = "charge", _("Charge")
    PAYMENT = "payment", _("Payment")
    REFUND = "refund", _("Refund")
    CREDIT_USE = "credit_use", _("Package credit used")
    WAIVER = "waiver", _("Waiver")
    REVERSAL = "reversal", _("Charge reversed")


# The sign of each kind of entry in the balance: what the patient owes goes up with a charge
# or a refund, down with a payment, a credit use, a waiver or a reversal.
OWED_UP = (Entry.CHARGE, Entry.REFUND)


class LedgerEntry(models.Model):
    """One movement of money, append-only: PostgreSQL refuses UPDATE and DELETE on this table
    (migration 0003). A correction is a new row (docs/payments.md#the-ledger). `amount` is
    signed: positive when the patient owes more, negative when less; the balance is the sum."""

    public_id = models.UUIDField(default=uuid.uuid4, editable=False, unique=True)
    patient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    location = models.ForeignKey("locations.Location", on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=20, choices=Entry.choices)
    amount = models.IntegerField()
    currency = models.CharField(max_length=3)
    charge = models.ForeignKey(
        Charge, null=True, blank=True, on_delete=models.PROTECT, related_name="entries"
    )
    credit = models.ForeignKey(
        Credit, null=True, blank=True, on_delete=models.PROTECT, related_name="entries"
    )
    stripe_id = models.CharField(max_length=64, blank=True)
    reason = models.CharField(max_length=300, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["recorded_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(kind__in=OWED_UP, amount__gt=0) | (~Q(kind__in=OWED_UP) & Q(amount__lt=0))
                ),
                name="ledger_sign_by_kind",
            ),
            # A charge is recorded once, paid once, waived once: a replayed webhook or a second
            # worker finds the row already there.
            models.UniqueConstraint(
                fields=["charge", "kind"],
                condition=Q(kind__in=["charge", "payment", "waiver", "credit_use"]),
                name="ledger_once_per_charge",
            ),
            # A Stripe payment or refund is recorded once, whichever of the worker, the webhook
            # or the reconciliation saw it first.
            models.UniqueConstraint(
                fields=["kind", "stripe_id"],
                condition=~Q(stripe_id=""),
                name="ledger_stripe_object_once",
            ),
        ]
        indexes = [
            # The patient's balance and statement.
            models.Index(fields=["patient", "recorded_at"]),
            # Takings per day and location.
            models.Index(fields=["location", "recorded_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.amount} {self.currency}"

    def money(self) -> Money:
        return Money(self.amount, self.currency)


class StripeEvent(models.Model):
    """A webhook event received from Stripe, once: its id is unique, so a replay is a no-op."""

    stripe_id = models.CharField(max_length=100, unique=True)
    type = models.CharField(max_length=100)
    received_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return self.stripe_id
