"""`make run`'s demo gets billing identities and prices, and its bookings their estimates."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from paperwork.identifiers import is_valid_npi
from paperwork.models import ClinicIdentity, Estimate, ProviderIdentity

pytestmark = pytest.mark.django_db


def test_the_demo_bookings_get_their_estimates_and_loading_twice_changes_nothing():
    call_command("load_demo")
    call_command("load_demo_paperwork")
    identity = ClinicIdentity.current()
    assert identity is not None and is_valid_npi(identity.npi)
    assert all(is_valid_npi(p.npi) for p in ProviderIdentity.objects.all())
    issued = Estimate.objects.count()
    assert issued >= 1
    call_command("load_demo_paperwork")
    assert Estimate.objects.count() == issued
