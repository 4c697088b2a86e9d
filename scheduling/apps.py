from django.apps import AppConfig


class SchedulingConfig(AppConfig):
    name = "scheduling"
    verbose_name = "Scheduling"

    def ready(self) -> None:
        from accounts import access
        from scheduling.models import Series, Session

        # Which patients staff see (docs/security.md#which-locations-patients-each-role-sees):
        # a series and its sessions place the patient at their location; a series is a booking.
        access.register_places(Series.objects.all)
        access.register_places(Session.objects.all)
        access.register_bookings(Series.objects.all)
