from django.apps import AppConfig


class SchedulingConfig(AppConfig):
    name = "scheduling"
    verbose_name = "Scheduling"

    def ready(self) -> None:
        from accounts import access
        from review import evaluations
        from scheduling import calendar, visits
        from scheduling.models import Series

        # Which patients staff see (docs/security.md#which-locations-patients-each-role-sees):
        # a series places the patient at its location, and is a booking. Its sessions need no
        # registration of their own: the database holds each at its series' location (the
        # composite foreign key session_at_its_series_location).
        access.register_places(Series.objects.all)
        access.register_bookings(Series.objects.all)

        # The review queue and the approval rule read evaluation visits through review's
        # registry (docs/architecture.md#signal-wiring).
        evaluations.register_reader(visits.evaluation_states)
        # The desk's calendar lists the visits beside the chairs (docs/visits.md#on-the-calendars).
        calendar.register_blocks("visit", visits.calendar_blocks)
