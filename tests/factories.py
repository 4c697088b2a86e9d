from __future__ import annotations

import datetime as dt

import factory

from accounts.models import Role, User
from locations.models import Chair, Location, OpeningHours

PASSWORD = "a-long-test-password"
TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


def _save_password(user: User, create: bool, extracted: object, **kwargs: object) -> None:
    if create:
        user.save()


def _authenticator(user: User, create: bool, extracted: object, **kwargs: object) -> None:
    """Staff come enrolled in the second factor with a known secret (pass False to skip)."""
    if create and user.is_clinic_staff and extracted is not False:
        from accounts.security import enrol_with_key
        from accounts.totp import hex_key

        enrol_with_key(user, hex_key(TOTP_SECRET))


def _locations(user: User, create: bool, extracted: object, **kwargs: object) -> None:
    """`locations=[...]` sets where a staff member works. Without it, the front desk and
    clinicians work at every location that exists when they are made (a one-site clinic), so
    they see its patients (docs/security.md#which-locations-patients-each-role-sees); nurses
    are given their locations by the tests that need them."""
    if not create:
        return
    if extracted is not None:
        user.locations.set(extracted)  # type: ignore[arg-type]  # an untyped factory argument
    elif user.role in (Role.FRONT_DESK, Role.CLINICIAN):
        user.locations.set(Location.objects.all())


class UserFactory(factory.django.DjangoModelFactory[User]):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.org")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    role = Role.PATIENT
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    # Post-generation hooks receive the built User, not the factory: module functions say so.
    save_password = factory.post_generation(_save_password)
    authenticator = factory.post_generation(_authenticator)
    locations = factory.post_generation(_locations)


class LocationFactory(factory.django.DjangoModelFactory[Location]):
    class Meta:
        model = Location
        django_get_or_create = ("slug",)

    name = factory.Sequence(lambda n: f"Location {n}")
    slug = factory.Sequence(lambda n: f"location-{n}")
    time_zone = "America/New_York"
    address = "1 Example Street\nStamford, CT 06902"


class OpeningHoursFactory(factory.django.DjangoModelFactory[OpeningHours]):
    class Meta:
        model = OpeningHours

    location = factory.SubFactory(LocationFactory)
    weekday = 0
    opens = dt.time(8)
    closes = dt.time(18)


class ChairFactory(factory.django.DjangoModelFactory[Chair]):
    class Meta:
        model = Chair

    location = factory.SubFactory(LocationFactory)
    name = factory.Sequence(lambda n: f"Chair {n}")
