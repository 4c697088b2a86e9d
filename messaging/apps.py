from django.apps import AppConfig


class MessagingConfig(AppConfig):
    name = "messaging"
    verbose_name = "Messaging"

    def ready(self) -> None:
        from messaging import booster_messages, reminders, staff_tasks, visit_messages
        from scheduling import hooks

        # The messages of scheduling's changes, planned in their transaction
        # (docs/architecture.md#signal-wiring).
        hooks.register_message_planner(reminders)
        reminders.register()
        visit_messages.register()
        booster_messages.register()
        staff_tasks.connect()
