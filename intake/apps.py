from django.apps import AppConfig


class IntakeConfig(AppConfig):
    name = "intake"
    verbose_name = "Patient intake"

    def ready(self) -> None:
        from intake import notifications
        from notifications import registry
        from notifications.signals import message_sent

        registry.name_kind(notifications.URGENT_NOTICE, notifications.LABEL)
        message_sent.connect(notifications.record_notified, dispatch_uid="urgent-flag-notified")
