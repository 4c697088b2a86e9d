from django.apps import AppConfig


class IntakeConfig(AppConfig):
    name = "intake"
    verbose_name = "Patient intake"

    def ready(self) -> None:
        from accounts import access
        from intake import notifications
        from intake.models import Intake
        from notifications import registry
        from notifications.signals import message_sent

        registry.name_kind(notifications.URGENT_NOTICE, notifications.LABEL)
        message_sent.connect(notifications.record_notified, dispatch_uid="urgent-flag-notified")

        # Which patients staff see (docs/security.md#which-locations-patients-each-role-sees):
        # an intake version places its patient at its location; a submitted one is for review.
        access.register_places(Intake.objects.all)
        access.register_reviews(lambda: Intake.objects.exclude(status=Intake.Status.DRAFT))
